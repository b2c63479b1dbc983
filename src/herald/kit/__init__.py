"""Generic helpers; nothing here imports a feature."""
