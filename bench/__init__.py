"""Benchmarks of the course (make bench): notebooks' time and memory, the lab server, grading throughput.
They live outside the grader package, so they are no part of a grade's fingerprint."""
