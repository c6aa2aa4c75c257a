from __future__ import annotations

import subprocess
import sys

from civicloop_engine import fingerprint, normalise


def test_normalise_collapses_whitespace_and_removes_invisible_characters():
    assert normalise("  Fix\u200b the\n\n  potholes\t ") == "Fix the potholes"


def test_normalise_folds_compatibility_characters():
    # A full-width digit and a ligature typed on a phone keyboard.
    assert normalise("ﬁve \uff15") == "five 5"


def test_fingerprint_ignores_case_and_spacing_but_not_words():
    assert fingerprint("Save our  library") == fingerprint("save OUR library ")
    assert fingerprint("Save our library") != fingerprint("Close our library")


def test_engine_imports_without_django():
    """The engine must work in an environment where Django cannot be imported."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'django' or name.startswith('django.'):\n"
        "            raise ImportError('django is blocked in this test')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import civicloop_engine\n"
        "print(civicloop_engine.normalise(' ok '))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
