"""Violence outcomes and their denominators: readers for the files the MPS, OHID and ONS publish."""
