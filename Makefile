# Conveniences over the scripts; the README's two commands work without make.
.PHONY: quickstart test bench bench-check deps

quickstart:
	scripts/quickstart.sh

test:
	scripts/test.sh

deps:
	scripts/install-deps.sh

bench:
	cd Benchmarks && swift package benchmark

bench-check:
	scripts/check-benchmarks.sh
