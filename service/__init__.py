"""Thái Nguyên Trace & Tour backend."""
