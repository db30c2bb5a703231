"""The Dagster shell: one module per pipeline stage. Assembled in ``reviewlens_dagster.definitions``."""
