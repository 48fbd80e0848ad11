# JupyterLab configuration of `make lab` (and of the JupyterLab test, tests/browser/test_lab.py):
# the notebooks folder, and the project's kernel ("aibubble", installed into .venv by make setup;
# the notebooks name it in their metadata) as the default for new notebooks.
from pathlib import Path

c = get_config()  # noqa: F821 (defined by Jupyter when it loads this file)
c.ServerApp.root_dir = str(Path(__file__).resolve().parent / "notebooks")
c.MappingKernelManager.default_kernel_name = "aibubble"
# no "Which kernel?" dialog on the first open and no news pop-ups
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
# the project's machines (and CI) run as root; JupyterLab refuses that without this
c.ServerApp.allow_root = True
