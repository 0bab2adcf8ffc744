"""Tests of cityhub.standards (a package: tests/directory has a test_regions.py too)."""
