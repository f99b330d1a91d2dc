"""What every student's nbgrader needs (the Assignments tab, Validate, fetch and submit): the course's id
and where its exchange is. Students get it through JUPYTER_CONFIG_PATH=.jupyter/student (`make lab`, the
hub); the instructor's nbgrader_config.py at the project's root loads it too, so both always agree."""

import os
import runpy

c = get_config()  # noqa: F821 (provided by nbgrader)

project = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
exchange = runpy.run_path(os.path.join(project, "hub", "exchange.py"))

c.CourseDirectory.course_id = "tf-torch-side-by-side"
# Outside the course directory, shared by the whole class (hub/exchange.py says which path and why).
c.Exchange.root = str(exchange["exchange_root"]())
# Validate (and autograde) run whole notebooks that import both frameworks.
c.Execute.timeout = 120
