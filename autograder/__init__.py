"""The course's autograder: grade a class's nbgrader submissions safely (each kernel sandboxed,
pass/fail decided outside it), in parallel or on a Dask cluster. ``python -m autograder --help``."""

__version__ = "1.0"
