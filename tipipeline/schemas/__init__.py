"""pandera models guarding every table boundary; run as blocking asset checks."""
