"""Questionnaire definitions (TOML files in this folder) and their loader."""
