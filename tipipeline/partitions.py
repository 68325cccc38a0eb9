"""Partitions: one dynamic partition per survey wave folder."""

from dagster import DynamicPartitionsDefinition

survey_waves = DynamicPartitionsDefinition(name="survey_waves")
