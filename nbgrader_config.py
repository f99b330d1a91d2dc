"""nbgrader's configuration for this course. nbgrader reads it when run from the project root
(make release, the Validate button, the formgrader)."""

import os

c = get_config()  # noqa: F821 (provided by nbgrader)

here = os.path.dirname(os.path.abspath(__file__))

# What students' nbgrader reads too: the course's id, the exchange, Validate's timeout.
load_subconfig(os.path.join(here, ".jupyter", "student", "nbgrader_config.py"))  # noqa: F821
if "course_id" not in c.CourseDirectory:
    raise FileNotFoundError(f"{here}/.jupyter/student/nbgrader_config.py is missing: it names the course")

# The instructor's course directory: sources, the gradebook, collected and graded work. On a class server it
# is the instructor's own copy, readable by the instructor only (make hub-users sets it up).
c.CourseDirectory.root = here
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
# Runtime state of grading stays under autograder/ (git-ignored), never beside the course.
c.CourseDirectory.submitted_directory = "autograder/submitted"
c.CourseDirectory.autograded_directory = "autograder/autograded"
c.CourseDirectory.feedback_directory = "autograder/feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "autograder", "gradebook.db")

# What a student sees where a solution was.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# The formgrader and `nbgrader generate_feedback` render notebooks students wrote: their Markdown and
# outputs must never script the instructor's or a student's page (see autograder/safe_html.py).
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.filters = {"markdown2html": "autograder.safe_html.markdown2html"}
