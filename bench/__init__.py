"""creditdesk benchmarks: `make bench` (bash bench/run.sh) runs `python -m bench`; see bench/README.md."""
