print("quantkit-bench: no benchmarks yet")
