"""The command line: a thin shell over the API (argument parsing, output format, exit codes)."""
