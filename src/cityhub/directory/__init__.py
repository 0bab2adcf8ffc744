"""The city's directory: its regions (GB/T 2260, with boundaries) and its organizations."""
