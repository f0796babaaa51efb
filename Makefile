# Shortcuts; scripts/dev.sh does the work and is what the README and CI use.
.PHONY: setup start demo test bench package screenshots
setup:
	bash scripts/dev.sh setup
start:
	bash scripts/dev.sh start
demo:
	bash scripts/dev.sh demo
test:
	bash scripts/dev.sh test
bench:
	bash scripts/dev.sh bench
screenshots:
	bash scripts/dev.sh screenshots
package:
	bash scripts/dev.sh package
