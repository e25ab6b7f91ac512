"""The benchmarks: figures, not tests (bench/README.md). Each runs from the checkout as
`.venv/bin/python -m bench.<name>`, so it imports `bench.harness` and the test helpers it borrows
(`tests.support`) as packages, with no change to sys.path."""
