"""JupyterHub for one class on one machine (`make hub`; README, "Running a class on one server").

- Users are the machine's Unix users, who log in with their Unix password (PAM, JupyterHub's default
  authenticator): the members of the class's group that `make hub-users` created; the instructor is the
  hub's admin.
- Each user's JupyterLab runs as that user (LocalProcessSpawner: the hub runs as root and drops to the user),
  from this checkout's environment, with nbgrader's shared exchange.
- Students get the student JupyterLab of `make lab` (Assignments tab and Validate; no instructor tools) in
  their home, where `make hub-users` put their copy of the chapters. The instructor gets nbgrader's
  formgrader in the private course directory.

Settings come from the environment (hub.classroom.Settings): COURSE_INSTRUCTOR, COURSE_GROUP,
NBGRADER_EXCHANGE, HUB_STATE, COURSE_VENV, and HUB_BIND_URL (default http://127.0.0.1:8000: put a TLS proxy in front,
or set JupyterHub.ssl_key/ssl_cert, before opening it to a network).
"""

import os
import pwd
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
from hub.classroom import STUDENT_CONFIG, Settings, course_id, instructor_course, user_environment  # noqa: E402

c = get_config()  # noqa: F821 (provided by JupyterHub)
settings = Settings.from_env()
if not settings.exchange.is_dir():
    sys.exit(f"nbgrader's exchange {settings.exchange} does not exist: set up the class first "
             "(sudo make hub-users ROSTER=roster.csv)")

c.JupyterHub.bind_url = os.environ.get("HUB_BIND_URL") or "http://127.0.0.1:8000"
# The hub's own state (its database, cookie secret, the proxy's pid) stays out of the checkout.
c.JupyterHub.db_url = f"sqlite:///{settings.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(settings.state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(settings.state / "jupyterhub-proxy.pid")

c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_groups = {settings.group}
c.Authenticator.admin_users = {settings.instructor}
# PAM sessions would need a full login stack (systemd-logind); authentication alone is what the hub needs.
c.PAMAuthenticator.open_sessions = False

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(settings.venv / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab/tree/course/00_start_here.ipynb"
# Two frameworks load in every kernel: give a server time to start on a busy machine.
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 180


def per_user(spawner):
    """The instructor's server: formgrader, in the private course directory. Everyone else: a student."""
    name = spawner.user.name
    env = {**spawner.environment, **user_environment(settings, Path(pwd.getpwnam(name).pw_dir))}
    if name == settings.instructor:
        course = instructor_course(name, course_id())
        spawner.notebook_dir = str(course)
        spawner.default_url = "/lab/tree/README.md"
        # A server starts in its user's home; nbgrader (the formgrader) finds the course's nbgrader_config.py
        # on the config path.
        env["JUPYTER_CONFIG_PATH"] = str(course)
    else:
        env["JUPYTER_CONFIG_PATH"] = str(STUDENT_CONFIG)
    spawner.environment = env


c.Spawner.pre_spawn_hook = per_user
