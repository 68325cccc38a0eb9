"""Readers: raw files in, validated pandas tables out. No Dagster here."""
