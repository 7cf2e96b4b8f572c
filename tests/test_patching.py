# SPDX-License-Identifier: GPL-2.0-only
"""Tests for pywalk's patches (pywalk/variant/patch_*.py): loading and
metadata, GNU patch as the engine on a scratch copy, strict by default,
offset and fuzz only on request, and the rejected-hunk display.
Synthetic diffs and trees only (no kernel)."""

import hashlib
import os
import textwrap

import pytest

from pywalk.errors import EXIT_BUILD, EXIT_USAGE, BuildError, PatchError, UsageError
from pywalk.variant import patch_apply
from pywalk.variant.patches import (
    ApplyNote,
    FilePatch,
    Hunk,
    Patch,
    apply_patches,
    load_patch,
    load_patches,
)


def numbered(n, prefix="line"):
    """A file text with n distinct lines 'line 1' ... 'line n'."""
    return "".join(f"{prefix} {i}\n" for i in range(1, n + 1))


def tree(files):
    """A read() callback over a dict, recording what was asked for."""
    asked = []

    def read(rel):
        asked.append(rel)
        return files.get(rel)

    read.asked = asked
    return read


def write(tmp_path, name, text):
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def diff(path, body):
    """A -p1 unified diff of one file; body is dedented."""
    return f"--- a/{path}\n+++ b/{path}\n" + textwrap.dedent(body).lstrip("\n")


# a hunk changing 'line 5' of numbered(10), with 3 lines of context
HUNK5 = """\
@@ -2,7 +2,7 @@ some function
 line 2
 line 3
 line 4
-line 5
+LINE FIVE
 line 6
 line 7
 line 8
"""


def apply(patches, files, fuzz=None):
    r = apply_patches(patches, tree(files), fuzz=fuzz)
    return r.files, r.notes


def apply_one(tmp_path, text, files, name="x.patch", fuzz=None):
    return apply([load_patch(write(tmp_path, name, text))], files, fuzz)


# ---------------------------------------------------------------- parsing


def test_parse_plain_diff(tmp_path):
    p = load_patch(write(tmp_path, "a.diff", diff("mm/x.c", HUNK5)))
    assert isinstance(p, Patch)
    assert p.name == "a.diff"
    assert p.subject is None
    assert p.sha256 == hashlib.sha256((tmp_path / "a.diff").read_bytes()).hexdigest()
    assert p.text.startswith("--- a/mm/x.c")
    assert not p.plain_paths
    [fp] = p.files
    assert isinstance(fp, FilePatch)
    assert (fp.old_path, fp.new_path) == ("a/mm/x.c", "b/mm/x.c")
    assert fp.names(1) == ["mm/x.c"] and fp.prefixed
    [h] = fp.hunks
    assert isinstance(h, Hunk)
    assert (h.old_start, h.old_len, h.new_start, h.new_len) == (2, 7, 2, 7)
    assert h.header == "@@ -2,7 +2,7 @@ some function"
    assert h.section == "some function"
    assert h.lines[3] == "-line 5" and h.lines[4] == "+LINE FIVE"
    assert len(h.lines) == 8


def test_parse_diff_u_timestamps_and_default_counts(tmp_path):
    text = (
        "--- a/mm/x.c\t2024-01-01 10:00:00.000000000 +0000\n"
        "+++ b/mm/x.c\t2024-01-02 10:00:00.000000000 +0000\n"
        "@@ -1 +1 @@\n"
        "-line 1\n"
        "+LINE 1\n"
    )
    p = load_patch(write(tmp_path, "t.diff", text))
    [fp] = p.files
    assert fp.names(1) == ["mm/x.c"]
    [h] = fp.hunks
    assert (h.old_start, h.old_len, h.new_start, h.new_len) == (1, 1, 1, 1)
    out, notes = apply([p], {"mm/x.c": "line 1\nline 2\n"})
    assert out == {"mm/x.c": "LINE 1\nline 2\n"} and notes == []


FORMAT_PATCH = """\
From 1234567890abcdef1234567890abcdef12345678 Mon Sep 17 00:00:00 2001
From: pywalk developers <pywalk@example.org>
Date: Fri, 20 Mar 2026 12:00:00 +0000
Subject: [PATCH 2/3] mm/x: a subject that is long enough to be folded by
 git format-patch onto a second line
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Why: because. A commit message with a line that looks like a diff
--- but is not one, and Hellström's name.

Signed-off-by: pywalk developers <pywalk@example.org>
---
 mm/x.c | 2 +-
 mm/y.c | 2 +-
 2 files changed, 2 insertions(+), 2 deletions(-)

diff --git a/mm/x.c b/mm/x.c
index 1111111..2222222 100644
--- a/mm/x.c
+++ b/mm/x.c
@@ -2,7 +2,7 @@ some function
 line 2
 line 3
 line 4
-line 5
+LINE FIVE
 line 6
 line 7
 line 8
diff --git a/mm/y.c b/mm/y.c
index 3333333..4444444 100644
--- a/mm/y.c
+++ b/mm/y.c
@@ -1,3 +1,3 @@
-y 1
+Y 1
 y 2
 y 3
 y 4
-- 
2.39.5

"""


def test_format_patch_mail(tmp_path):
    # the y.c hunk says 3/3 lines: its 4th line (" y 4") and the "-- "
    # signature are outside it
    p = load_patch(write(tmp_path, "0002-x.patch", FORMAT_PATCH))
    assert p.subject == ("mm/x: a subject that is long enough to be folded by"
                         " git format-patch onto a second line")
    assert [fp.names(1) for fp in p.files] == [["mm/x.c"], ["mm/y.c"]]
    assert p.files[1].hunks[0].lines == ["-y 1", "+Y 1", " y 2", " y 3"]
    r = apply_patches([p], tree({"mm/x.c": numbered(10), "mm/y.c": "y 1\ny 2\ny 3\n"}))
    assert r.files["mm/x.c"] == numbered(10).replace("line 5\n", "LINE FIVE\n")
    assert r.files["mm/y.c"] == "Y 1\ny 2\ny 3\n"
    assert r.notes == [] and r.touched == [["mm/x.c", "mm/y.c"]]


def test_subject_tags(tmp_path):
    for subject, want in [
        ("[PATCH] mm: fix", "mm: fix"),
        ("[PATCH v3 2/7] mm: Add a walk", "mm: Add a walk"),
        ("[RFC PATCH] [PATCH 1/1] a [b] c", "a [b] c"),
        ("no tag at all", "no tag at all"),
    ]:
        text = f"From: a <a@b.c>\nSubject: {subject}\n\n---\n" + diff("f", HUNK5)
        assert load_patch(write(tmp_path, "s.patch", text)).subject == want


def test_quoted_printable_mail_is_decoded_before_applying(tmp_path):
    body = diff("d/f", "@@ -1 +1 @@\n-a =3D 1;\n+a =3D 2;\n")
    text = ("From: a <a@b.c>\nSubject: [PATCH] qp\nContent-Type: text/plain; charset=UTF-8\n"
            "Content-Transfer-Encoding: quoted-printable\n\n---\n" + body)
    p = load_patch(write(tmp_path, "qp.patch", text))
    assert p.files[0].hunks[0].lines == ["-a = 1;", "+a = 2;"]
    assert apply([p], {"d/f": "a = 1;\n"})[0] == {"d/f": "a = 2;\n"}


def test_empty_context_line_from_mangled_mail(tmp_path):
    # a mailer turned the " " of an empty context line into ""
    out, _ = apply_one(tmp_path, diff("d/f", "@@ -1,3 +1,3 @@\n a\n\n-b\n+B\n"),
                       {"d/f": "a\n\nb\n"})
    assert out == {"d/f": "a\n\nB\n"}


def test_form_feed_is_not_a_line_break(tmp_path):
    out, _ = apply_one(tmp_path, diff("d/f", "@@ -1,2 +1,2 @@\n \f\n-a\n+b\n"), {"d/f": "\f\na\n"})
    assert out == {"d/f": "\f\nb\n"}


@pytest.mark.parametrize("text, what", [
    ("just some text\nwithout a diff\n", "no unified diff"),
    ("--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n", "truncated"),
    ("--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n?b\n+c\n", "malformed"),
    ("--- a/../etc/passwd\n+++ b/../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n", "unsafe path"),
    ("--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n", "unsafe path"),
    ("diff --git a/f b/f\ndeleted file mode 100644\n--- a/f\n+++ /dev/null\n"
     "@@ -1 +0,0 @@\n-a\n", "deleting files"),
    ("diff --git a/f b/g\nsimilarity index 100%\nrename from f\nrename to g\n", "renames"),
])
def test_unparsable_patch_is_usage_error(tmp_path, text, what):
    path = write(tmp_path, "bad.patch", text)
    with pytest.raises(UsageError) as ei:
        load_patches([path])
    msg = str(ei.value)
    assert msg.startswith(f"pywalk: --patch {path}: ")
    assert what in msg
    assert "\n" not in msg
    assert ei.value.exit_code == EXIT_USAGE


# ---------------------------------------------------------------- loading


def test_missing_path(tmp_path):
    with pytest.raises(UsageError) as ei:
        load_patches([tmp_path / "nope.patch"])
    assert str(ei.value) == f"pywalk: --patch {tmp_path / 'nope.patch'}: no such file or directory"
    assert ei.value.exit_code == EXIT_USAGE


def test_empty_directory(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    (d / "README").write_text("not a patch\n")
    with pytest.raises(UsageError) as ei:
        load_patches([d])
    assert str(ei.value).startswith(f"pywalk: --patch {d}: ")
    assert "\n" not in str(ei.value)


def test_directory_in_name_order(tmp_path):
    d = tmp_path / "p"
    write(d, "0002-b.diff", diff("f", HUNK5))
    write(d, "0001-a.patch", diff("f", HUNK5))
    write(d, "0010-c.patch", diff("f", HUNK5))
    write(d, "notes.txt", "ignored\n")
    write(d, "old.patch.orig", "ignored\n")
    assert [p.name for p in load_patches([d])] == ["0001-a.patch", "0002-b.diff", "0010-c.patch"]


def test_quilt_series_order_and_comments(tmp_path):
    d = tmp_path / "q"
    for n in ("a.patch", "b.patch", "c.diff", "unlisted.patch"):
        write(d, n, diff("f", HUNK5))
    write(d, "series", textwrap.dedent("""\
        # a quilt series
        c.diff -p1

        a.patch   # trailing comment
        #b.patch
        b.patch
    """))
    assert [p.name for p in load_patches([d])] == ["c.diff", "a.patch", "b.patch"]


def test_quilt_series_errors(tmp_path):
    d = tmp_path / "q"
    write(d, "a.patch", diff("f", HUNK5))
    write(d, "series", "a.patch\nmissing.patch\n")
    with pytest.raises(UsageError, match="series lists missing.patch, which does not exist"):
        load_patches([d])
    write(d, "series", "a.patch -p0\n")
    with pytest.raises(UsageError, match="only -p1"):
        load_patches([d])
    write(d, "series", "# nothing\n\n")
    with pytest.raises(UsageError, match="lists no patches"):
        load_patches([d])


def test_several_specs_keep_order(tmp_path):
    a = write(tmp_path, "z.patch", diff("f", HUNK5))
    d = tmp_path / "dir"
    write(d, "a.patch", diff("f", HUNK5))
    assert [p.name for p in load_patches([str(a), d])] == ["z.patch", "a.patch"]


def test_load_patch_on_directory_is_usage_error(tmp_path):
    with pytest.raises(UsageError, match="is a directory"):
        load_patch(tmp_path)


# ---------------------------------------------------------------- strict by default


def test_exact_apply(tmp_path):
    files = {"mm/x.c": numbered(10)}
    read = tree(files)
    patch = load_patch(write(tmp_path, "x.patch", diff("mm/x.c", HUNK5)))
    r = apply_patches([patch], read)
    assert r.files == {"mm/x.c": numbered(10).replace("line 5\n", "LINE FIVE\n")}
    assert r.notes == [] and r.touched == [["mm/x.c"]]
    assert files["mm/x.c"] == numbered(10)  # the input is left alone
    assert read.asked == ["mm/x.c"]


def test_offset_is_refused_without_fuzz(tmp_path):
    text = "extra a\nextra b\nextra c\n" + numbered(10)
    with pytest.raises(PatchError) as ei:
        apply_one(tmp_path, diff("mm/x.c", HUNK5), {"mm/x.c": text})
    lines = str(ei.value).splitlines()
    assert lines[0] == "pywalk: patch x.patch does not apply to mm/x.c: hunk @@ -2,7 +2,7 @@ failed"
    assert "its lines are at offset +3 lines" in lines[2] and "--fuzz 0" in lines[2]
    assert "  tree has at line 5 (7 of 7 lines equal):" in lines


def test_offset_with_fuzz_0_is_a_note(tmp_path):
    text = "extra a\nextra b\nextra c\n" + numbered(10)
    out, notes = apply_one(tmp_path, diff("mm/x.c", HUNK5), {"mm/x.c": text}, fuzz=0)
    assert out["mm/x.c"] == text.replace("line 5\n", "LINE FIVE\n")
    assert notes == [ApplyNote(patch="x.patch", file="mm/x.c", hunk="@@ -2,7 +2,7 @@",
                               kind="offset", detail="applied at offset +3 lines")]
    assert str(notes[0]) == "x.patch: mm/x.c: hunk @@ -2,7 +2,7 @@: applied at offset +3 lines"


def test_negative_offset_and_single_line_wording(tmp_path):
    text = numbered(10).replace("line 1\n", "")
    _, notes = apply_one(tmp_path, diff("d/f", HUNK5), {"d/f": text}, fuzz=0)
    assert [(n.kind, n.detail) for n in notes] == [("offset", "applied at offset -1 line")]


def test_fuzz_only_on_request(tmp_path):
    text = numbered(10).replace("line 2\n", "line two\n").replace("line 8\n", "line eight\n")
    for fuzz in (None, 0):
        with pytest.raises(PatchError) as ei:
            apply_one(tmp_path, diff("mm/x.c", HUNK5), {"mm/x.c": text}, fuzz=fuzz)
        assert "  tree has at line 2 (5 of 7 lines equal):" in str(ei.value)
    out, notes = apply_one(tmp_path, diff("mm/x.c", HUNK5), {"mm/x.c": text}, fuzz=1)
    # the ignored context lines keep what the tree has
    assert out["mm/x.c"] == text.replace("line 5\n", "LINE FIVE\n")
    assert notes == [ApplyNote(patch="x.patch", file="mm/x.c", hunk="@@ -2,7 +2,7 @@",
                               kind="fuzz", detail="applied with fuzz 1")]


def test_fuzz_2_with_offset(tmp_path):
    text = "new\n" + numbered(10).replace("line 3\n", "line three\n")
    out, notes = apply_one(tmp_path, diff("d/f", HUNK5), {"d/f": text}, fuzz=2)
    assert out["d/f"] == text.replace("line 5\n", "LINE FIVE\n")
    assert [(n.kind, n.detail) for n in notes] == [
        ("fuzz", "applied with fuzz 2 at offset +1 line")]


def test_fuzz_is_bounded(tmp_path):
    text = numbered(10).replace("line 4\n", "line four\n")
    with pytest.raises(PatchError) as ei:
        apply_one(tmp_path, diff("d/f", HUNK5), {"d/f": text}, fuzz=2)
    assert "not even ignoring 2 lines of leading/trailing context (--fuzz 2)" in str(ei.value)


def test_several_hunks_carry_offset(tmp_path):
    hunks = """\
        @@ -2,3 +2,4 @@
         line 2
        +added after 2
         line 3
         line 4
        @@ -16,3 +17,3 @@
         line 16
        -line 17
        +LINE 17
         line 18
        """
    text = "pre 1\npre 2\n" + numbered(20)
    out, notes = apply_one(tmp_path, diff("d/f", hunks), {"d/f": text}, fuzz=0)
    assert out["d/f"] == text.replace("line 2\n", "line 2\nadded after 2\n").replace(
        "line 17\n", "LINE 17\n")
    assert [(n.hunk, n.detail) for n in notes] == [
        ("@@ -2,3 +2,4 @@", "applied at offset +2 lines"),
        ("@@ -16,3 +17,3 @@", "applied at offset +2 lines")]


def test_trailing_whitespace_must_match(tmp_path):
    text = numbered(10).replace("line 5\n", "line 5 \n")
    for fuzz in (None, 2):
        with pytest.raises(PatchError) as ei:
            apply_one(tmp_path, diff("d/f", HUNK5), {"d/f": text}, fuzz=fuzz)
        msg = str(ei.value)
        assert "'line 5 '" in msg and "'line 5'" in msg  # shown quoted
        assert "differs only in whitespace" in msg


# ---------------------------------------------------------------- the rejected hunk


def test_failure_message(tmp_path):
    text = numbered(30).replace("line 5\n", "line 5 was changed\n")
    with pytest.raises(PatchError) as ei:
        apply_one(tmp_path, diff("mm/x.c", HUNK5), {"mm/x.c": text}, name="0001-fix.patch")
    e = ei.value
    assert e.exit_code == EXIT_BUILD == 125
    lines = str(e).splitlines()
    assert lines[0] == ("pywalk: patch 0001-fix.patch does not apply to mm/x.c:"
                        " hunk @@ -2,7 +2,7 @@ failed")
    assert lines[1] == "  hunk 1 of 1, stated at line 2, in: some function"
    assert "stricter than git apply: no offset, no fuzz" in lines[2]
    i = lines.index("  expected:")
    expected = lines[i + 1:i + 8]
    assert [l.split("|", 1)[1] for l in expected] == [
        "line 2", "line 3", "line 4", "line 5", "line 6", "line 7", "line 8"]
    assert expected[0].split("|")[0].split() == ["2"]
    assert expected[3].split("|")[0].split() == ["5", "-"]
    assert lines[i + 8] == "  tree has at line 2 (6 of 7 lines equal):"
    has = lines[i + 9:i + 16]
    assert [l.split("|", 1)[1] for l in has] == [
        "line 2", "line 3", "line 4", "line 5 was changed", "line 6", "line 7", "line 8"]
    assert has[3].split("|")[0].split() == ["5", "!"]
    assert has[2].split("|")[0].split() == ["4"]


def test_failure_best_match_tie_goes_to_nearest(tmp_path):
    # two places with 1 of 3 lines equal; the one nearer line 20 is shown
    text = "".join(f"{i}\n" for i in range(1, 41)).replace("5\n", "k\n", 1)
    text = text.replace("\n25\n", "\nk\n")
    hunk = "@@ -20,3 +20,3 @@\n k\n-zz\n+ZZ\n yy\n"
    with pytest.raises(PatchError) as ei:
        apply_one(tmp_path, diff("d/f", hunk), {"d/f": text})
    assert "tree has at line 25 (1 of 3 lines equal):" in str(ei.value)


def test_second_of_several_failed_hunks_is_listed(tmp_path):
    hunks = ("@@ -2,3 +2,3 @@\n line 2\n-nope\n+X\n line 4\n"
             "@@ -8,3 +8,3 @@\n line 8\n-line 9\n+LINE 9\n line 10\n"
             "@@ -11,3 +11,3 @@\n line 11\n-nope\n+Y\n line 13\n")
    with pytest.raises(PatchError) as ei:
        apply_one(tmp_path, diff("d/f", hunks), {"d/f": numbered(14)})
    msg = str(ei.value)
    assert msg.startswith("pywalk: patch x.patch does not apply to d/f: hunk @@ -2,3 +2,3 @@ failed")
    assert "hunk 1 of 3" in msg
    assert "(also failed: hunk 3 @@ -11,3 +11,3 @@)" in msg


def test_later_patch_failure_reports_current_lines(tmp_path):
    first = load_patch(write(tmp_path, "1.patch", diff("d/f", HUNK5)))
    second = load_patch(write(tmp_path, "2.patch", diff("d/f", HUNK5)))  # still expects line 5
    with pytest.raises(PatchError) as ei:
        apply([first, second], {"d/f": numbered(10)})
    msg = str(ei.value)
    assert msg.startswith("pywalk: patch 2.patch does not apply to d/f: hunk @@ -2,7 +2,7 @@ failed")
    assert "with the earlier patches applied" in msg
    assert " 5 !|LINE FIVE" in msg
    assert "the tree already has what the hunk makes (applied twice, or reversed?)" in msg


# ---------------------------------------------------------------- files


def test_missing_file_in_tree(tmp_path):
    with pytest.raises(PatchError) as ei:
        apply_one(tmp_path, diff("mm/gone.c", HUNK5), {"mm/x.c": numbered(10)})
    assert str(ei.value) == ("pywalk: patch x.patch does not apply to mm/gone.c:"
                             " the file does not exist in the kernel tree")
    assert ei.value.exit_code == 125


def test_one_missing_file_stops_the_whole_patch(tmp_path):
    text = diff("mm/x.c", HUNK5) + diff("fs/gone.c", HUNK5)
    with pytest.raises(PatchError, match="does not apply to fs/gone.c: the file does not exist"):
        apply_one(tmp_path, text, {"mm/x.c": numbered(10)})


def test_bare_path_p0_patch_is_applied_with_a_note(tmp_path):
    text = "--- mm/x.c\n+++ mm/x.c\n" + HUNK5
    p = load_patch(write(tmp_path, "p0.diff", text))
    assert p.plain_paths
    r = apply_patches([p], tree({"mm/x.c": numbered(10)}))
    assert r.files == {"mm/x.c": numbered(10).replace("line 5\n", "LINE FIVE\n")}
    assert r.touched == [["mm/x.c"]]
    [note] = r.notes
    assert note.kind == "p0" and note.file == "mm/x.c"
    assert str(note) == ("p0.diff: mm/x.c: paths have no a/ b/ prefix (diff -u inside the tree?):"
                         " applied with -p0")


def test_bare_path_patch_of_a_missing_file_names_both_readings(tmp_path):
    text = "--- mm/gone.c\n+++ mm/gone.c\n" + HUNK5
    with pytest.raises(PatchError) as ei:
        apply_one(tmp_path, text, {"mm/x.c": numbered(10)})
    assert str(ei.value) == ("pywalk: patch x.patch does not apply to gone.c: the file does not"
                             " exist in the kernel tree (nor does mm/gone.c, read as a -p0 path)")


def test_a_p1_reading_wins_when_both_exist(tmp_path):
    # "linux/mm/x.c" style: -p1 gives mm/x.c, which exists; no note
    text = "--- linux.orig/mm/x.c\n+++ linux/mm/x.c\n" + HUNK5
    out, notes = apply_one(tmp_path, text, {"mm/x.c": numbered(10)})
    assert list(out) == ["mm/x.c"] and notes == []


def test_plain_diff_of_differently_named_copies(tmp_path):
    text = ("--- linux.orig/mm/x.c.orig\t2024-01-01 00:00:00\n"
            "+++ linux/mm/x.c\t2024-01-01 00:00:00\n" + HUNK5)
    p = load_patch(write(tmp_path, "c.diff", text))
    assert p.files[0].names(1) == ["mm/x.c", "mm/x.c.orig"]
    out, _ = apply([p], {"mm/x.c": numbered(10)})
    assert list(out) == ["mm/x.c"]


def test_new_file(tmp_path):
    text = ("diff --git a/mm/new.c b/mm/new.c\nnew file mode 100644\n"
            "index 0000000..1111111\n--- /dev/null\n+++ b/mm/new.c\n"
            "@@ -0,0 +1,2 @@\n+// new\n+int x;\n")
    p = load_patch(write(tmp_path, "new.patch", text))
    assert p.files[0].is_new
    out, notes = apply([p], {})
    assert out == {"mm/new.c": "// new\nint x;\n"} and notes == []
    with pytest.raises(PatchError, match="already has it"):
        apply([p], {"mm/new.c": "int y;\n"})


def test_empty_new_file(tmp_path):
    text = "diff --git a/mm/empty.h b/mm/empty.h\nnew file mode 100644\nindex 0000000..e69de29\n"
    out, _ = apply_one(tmp_path, text, {})
    assert out == {"mm/empty.h": ""}


def test_two_patches_in_sequence(tmp_path):
    first = load_patch(write(tmp_path, "1.patch", diff("d/f", HUNK5)))
    second_hunk = """\
        @@ -3,6 +3,7 @@
         line 3
         line 4
         LINE FIVE
        +LINE FIVE AND A HALF
         line 6
         line 7
         line 8
        """
    second = load_patch(write(tmp_path, "2.patch", diff("d/f", second_hunk)))
    r = apply_patches([first, second], tree({"d/f": numbered(10)}))
    assert r.files["d/f"] == numbered(10).replace("line 5\n", "LINE FIVE\nLINE FIVE AND A HALF\n")
    assert r.notes == [] and r.touched == [["d/f"], ["d/f"]]
    # the other way round the second patch does not find "LINE FIVE"
    with pytest.raises(PatchError, match=r"^pywalk: patch 2.patch does not apply to d/f"):
        apply([second, first], {"d/f": numbered(10)})


def test_no_newline_at_end_of_file(tmp_path):
    # change the last line, which has no newline, keeping it without one
    hunk = "@@ -2,2 +2,2 @@\n b\n-c\n\\ No newline at end of file\n+C\n\\ No newline at end of file\n"
    p = load_patch(write(tmp_path, "n.patch", diff("d/f", hunk)))
    assert p.files[0].hunks[0].lines == [" b", "-c", "+C"]
    assert apply([p], {"d/f": "a\nb\nc"})[0] == {"d/f": "a\nb\nC"}


def test_no_newline_added_and_removed(tmp_path):
    add = "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
    assert apply_one(tmp_path, diff("d/f", add), {"d/f": "a\nb"})[0] == {"d/f": "a\nb\n"}
    remove = "@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n"
    assert apply_one(tmp_path, diff("d/f", remove), {"d/f": "a\nb\n"})[0] == {"d/f": "a\nb"}


# ---------------------------------------------------------------- the scratch copy


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Point tempfile at a directory of our own, to see what is left there."""
    import tempfile
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def test_scratch_copy_is_removed(tmp_path, private_tmp):
    apply_one(tmp_path, diff("mm/x.c", HUNK5), {"mm/x.c": numbered(10)})
    with pytest.raises(PatchError):
        apply_one(tmp_path, diff("mm/x.c", HUNK5), {"mm/x.c": numbered(3)})
    assert os.listdir(private_tmp) == []


def test_ctrl_c_during_apply_leaves_nothing_behind(tmp_path, private_tmp, monkeypatch):
    seen = []

    def interrupted(cmd, **kw):
        seen.append(sorted(os.listdir(kw["cwd"])))   # the scratch copy, as patch sees it
        raise KeyboardInterrupt

    monkeypatch.setattr(patch_apply.subprocess, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        apply_one(tmp_path, diff("mm/x.c", HUNK5), {"mm/x.c": numbered(10), "mm/y.c": "y\n"})
    assert seen == [["mm"]]
    assert os.listdir(private_tmp) == []


def test_without_gnu_patch_the_error_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(patch_apply.shutil, "which", lambda name: None)
    with pytest.raises(BuildError) as ei:
        apply_one(tmp_path, diff("mm/x.c", HUNK5), {"mm/x.c": numbered(10)})
    assert "GNU patch" in str(ei.value) and "\n" not in str(ei.value)


def test_a_file_in_two_sections_of_one_patch(tmp_path):
    h3 = "@@ -2,3 +2,3 @@\n line 2\n-line 3\n+LINE 3\n line 4\n"
    h13 = "@@ -12,3 +12,3 @@\n line 12\n-line 13\n+LINE 13\n line 14\n"
    text = diff("d/b.c", h3) + diff("d/a.c", h3) + diff("d/b.c", h13)
    r = apply_patches([load_patch(write(tmp_path, "m.patch", text))],
                      tree({"d/a.c": numbered(20), "d/b.c": numbered(20)}))
    assert r.touched == [["d/b.c", "d/a.c"]]
    assert r.files["d/b.c"] == numbered(20).replace("line 3\n", "LINE 3\n").replace(
        "line 13\n", "LINE 13\n")
    assert r.files["d/a.c"] == numbered(20).replace("line 3\n", "LINE 3\n")
