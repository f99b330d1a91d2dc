"""nbgrader's configuration for this course. nbgrader reads it when run from the project root
(make release, the Validate button, the formgrader)."""

import os

c = get_config()  # noqa: F821 (provided by nbgrader)

here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "tf-torch-side-by-side"
c.CourseDirectory.root = here
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
# Runtime state of grading stays under autograder/ (git-ignored), never beside the course.
c.CourseDirectory.submitted_directory = "autograder/submitted"
c.CourseDirectory.autograded_directory = "autograder/autograded"
c.CourseDirectory.feedback_directory = "autograder/feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "autograder", "gradebook.db")
# nbgrader's exchange (release/fetch/submit/collect between instructor and students on one machine),
# kept inside the project instead of the system-wide /usr/local/share/nbgrader/exchange.
c.Exchange.root = os.path.join(here, "autograder", "exchange")

# What a student sees where a solution was.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Validate and autograde run whole notebooks that import both frameworks.
c.Execute.timeout = 120

# The formgrader and `nbgrader generate_feedback` render notebooks students wrote: their Markdown and
# outputs must never script the instructor's or a student's page (see autograder/safe_html.py).
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.filters = {"markdown2html": "autograder.safe_html.markdown2html"}
