"""Every module and role of the checkout renders with ansible-doc, as users and Galaxy see it."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_DOC = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
COLLECTION = "alicloud.rollout"
# ansible-core 2.20 and 2.21 warn about their own internal collection whenever ansible-doc enumerates collections
# for a role (ansible/ansible#85689); it is not about our docs, and the only warning tolerated here.
INTERNAL_COLLECTION_WARNING = re.compile(
    r"^\[WARNING\]: Collection at '[^']*/ansible/_internal/ansible_collections/ansible/_protomatter' does not have a "
    r"MANIFEST\.json file, nor has it galaxy\.yml: cannot detect version\.$", re.M)


def checkout_modules():
    folder = os.path.join(ROOT, "plugins", "modules")
    return sorted(name[:-3] for name in os.listdir(folder) if name.endswith(".py") and not name.startswith("_"))


def checkout_roles():
    folder = os.path.join(ROOT, "roles")
    if not os.path.isdir(folder):
        return []
    return sorted(name for name in os.listdir(folder)
                  if os.path.isfile(os.path.join(folder, name, "meta", "argument_specs.yml")))


def ansible_doc(*args):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "build", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    process = subprocess.run([ANSIBLE_DOC] + list(args), env=env, capture_output=True, text=True, timeout=180)
    output = process.stdout + INTERNAL_COLLECTION_WARNING.sub("", process.stderr)
    assert process.returncode == 0, output
    assert not re.search(r"^\s*(\[WARNING\]|\[ERROR\]|ERROR)", output, re.M), output
    return process.stdout


def test_every_module_and_role_is_listed():
    listed = re.findall(r"^alicloud\.rollout\.(\w+)\s", ansible_doc("-t", "module", "-l", COLLECTION), re.M)
    assert sorted(listed) == checkout_modules()
    roles = checkout_roles()
    if roles:
        listed_roles = re.findall(r"^alicloud\.rollout\.(\w+):", ansible_doc("-t", "role", "-l", COLLECTION), re.M)
        assert sorted(listed_roles) == roles


def test_every_module_renders_with_options_examples_and_return_values():
    modules = checkout_modules()
    assert "ess_rolling_update" in modules and "oos_execution_info" in modules
    text = ansible_doc("-t", "module", *["%s.%s" % (COLLECTION, name) for name in modules])
    sections = re.split(r"^> MODULE ", text, flags=re.M)[1:]
    rendered = {section.split()[0].strip("*"): section for section in sections}
    assert sorted(rendered) == ["%s.%s" % (COLLECTION, name) for name in modules]
    for name, section in rendered.items():
        for heading in ("OPTIONS", "EXAMPLES:", "RETURN VALUES:"):
            assert re.search(r"^%s" % re.escape(heading), section, re.M), "%s lacks %s" % (name, heading)
        # The shared connection options come from the doc fragment.
        assert "access_key_id" in section and "endpoint_url" in section, name


def test_every_role_renders_its_entry_points():
    roles = checkout_roles()
    assert roles, "the collection ships a role (roles/<name>/meta/argument_specs.yml)"
    for role in roles:
        text = ansible_doc("-t", "role", "%s.%s" % (COLLECTION, role))
        assert re.search(r"^> ROLE: \*?%s\.%s\b" % (re.escape(COLLECTION), role), text, re.M), text
        assert re.search(r"^ENTRY POINT: \*?main\b", text, re.M), text
