"""Benchmarks of the workflow server: `python -m bench --help`.

Every figure is measured against a baseline taken in the same run (raw SpiffWorkflow in memory
for throughput; printed targets for inbox latency). Nothing here asserts on time.
"""
