"""The measurement framework (principles, domains, journey stages, stage rule) as data.

`framework.yaml` beside this module is the framework; `load_framework()` reads and validates it.
"""

from tipipeline.framework.model import FRAMEWORK_PATH, Framework, Stage, StageThreshold, load_framework

__all__ = ["FRAMEWORK_PATH", "Framework", "Stage", "StageThreshold", "load_framework"]
