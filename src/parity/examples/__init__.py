"""Small, realistic reference models built in code, for the bundled example, tests and benchmarks."""
