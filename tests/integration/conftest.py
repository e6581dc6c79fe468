"""Every ansible-playbook run of an integration test is also checked for warnings about our content (issue 16).

ansible_env() (support.playbook) copies os.environ, so each run of a test logs to that test's ANSIBLE_LOG_PATH with
deprecation warnings on; after the test, any warning in the log that names the collection, a module, the role or a
file of this checkout fails it. The same runs serve both checks: no extra playbook run.
"""
import pytest

from support.playbook import logged_warnings_about_our_content


@pytest.fixture(autouse=True)
def no_warnings_about_our_content(tmp_path_factory, monkeypatch):
    log = tmp_path_factory.mktemp("ansible-log") / "ansible.log"
    monkeypatch.setenv("ANSIBLE_LOG_PATH", str(log))
    monkeypatch.setenv("ANSIBLE_DEPRECATION_WARNINGS", "1")
    yield
    found = logged_warnings_about_our_content(log)
    assert found == [], "warnings about our content:\n" + "\n".join(found)
