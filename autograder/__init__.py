"""The course's grading and maintenance tools (nbgrader-based), and their tests."""
