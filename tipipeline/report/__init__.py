"""The baseline report: one self-contained HTML file built from the published baseline."""
