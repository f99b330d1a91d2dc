"""Running the course for a class on one machine: JupyterHub, nbgrader's shared exchange, and Unix users
for the instructor and the students (see README, "Running a class on one server")."""
