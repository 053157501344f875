"""Sources (a wave's comments, transcripts) and codings, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from sqlalchemy import select
from text_helpers import COMMENTS, comment_wave

from sharedground.store import Store
from sharedground.store.textschema import TextSource
from sharedground.text import coding, frames, sources
from sharedground.text.errors import TextError


def test_comments_become_anonymised_sources_once(store: Store, tmp_path: Path) -> None:
    comment_wave(store, tmp_path)
    with store.session() as session:
        wave = store.get_wave(session, "w")
        done = sources.add_comments(store, session, wave)
        assert (done.added, done.already) == (len(COMMENTS), 0)
        again = sources.add_comments(store, session, wave)
        assert (again.added, again.already) == (0, len(COMMENTS))
        found = sources.list_sources(session, wave=wave, kind="comment")
        by_text = {(s.role, s.attributes["trust"]): s for s in found}
        assert len(found) == len(COMMENTS)
        pii = by_text[("medical_director", "RA1")] if "Finance" in found[1].content else None
        texts = [s.content for s in found]
        assert not any("Smith" in t or "01632" in t for t in texts)
        assert any("[name removed]" in t and "[phone removed]" in t for t in texts)
        assert pii is None or pii.kind == "comment"
        # Case attributes: role, trust, mode, wave, item; never the respondent's key.
        first = found[0]
        assert set(first.attributes) == {"wave", "role", "trust", "mode", "item"}
        assert first.attributes["item"] == "comments_overall"
        assert "h3-" not in first.name


def test_transcripts_all_or_none(store: Store, tmp_path: Path) -> None:
    good = tmp_path / "interview1.txt"
    good.write_text("Q: How are things?\r\n\r\nA: Better than in 2002.\r\n", encoding="utf-8")
    word = tmp_path / "focus.docx"
    document = docx.Document()
    document.add_paragraph("First paragraph.")
    document.add_paragraph("Second paragraph, by Mrs Patel.")
    document.save(str(word))
    latin = tmp_path / "old.txt"
    latin.write_bytes("line one\ncaf\xe9 culture\n".encode("latin-1"))
    attrs = sources.parse_attributes(["role=clinical_director", "trust=RA1", "date=2015-07-01"])
    with store.session() as session, pytest.raises(TextError) as caught:
        sources.add_documents(store, session, [good, latin], attrs)
    assert f"{latin}: line 2" in str(caught.value) and "UTF-8" in str(caught.value)
    with store.session() as session:
        assert sources.list_sources(session) == []
        added = sources.add_documents(store, session, [good, word], attrs)
        assert added[0].content == "Q: How are things?\n\nA: Better than in 2002."
        assert added[1].content == "First paragraph.\nSecond paragraph, by [name removed]."
        assert added[0].attributes["role"] == "clinical_director"
        assert added[0].organisation_id is not None
    with pytest.raises(TextError, match="unknown attribute 'age'"):
        sources.parse_attributes(["age=50"])


def test_codings_kept_apart_by_coder_and_checked(store: Store, tmp_path: Path) -> None:
    comment_wave(store, tmp_path)
    with store.session() as session:
        sources.add_comments(store, session, store.get_wave(session, "w"))
        frame = frames.save(session, frames.builtin("dmr-themes"))
        found = sources.list_sources(session)
        codes = coding.codes_of(session, frame)
        ann, bob = coding.get_coder(session, "ann"), coding.get_coder(session, "bob")
        source = found[1]
        coding.add(session, source, codes["external_finance"], ann, start=0, end=7)
        coding.add(session, source, codes["external_finance"], bob)
        # A span over the whole text is the whole-source coding, kept once.
        coding.add(
            session, source, codes["external_finance"], bob, start=0, end=len(source.content)
        )
        with pytest.raises(TextError, match="outside source"):
            coding.add(session, source, codes["perceptions"], ann, start=5, end=10_000)
        listed = coding.rows(session, frame)
        assert [(r.coder, r.start, r.end) for r in listed] == [("ann", 0, 7), ("bob", None, None)]
        assert coding.rows(session, frame, coders=["bob"])[0].code == "external_finance"


def test_csv_import_all_or_none_with_row_and_column(store: Store, tmp_path: Path) -> None:
    comment_wave(store, tmp_path)
    with store.session() as session:
        sources.add_comments(store, session, store.get_wave(session, "w"))
        frames.save(session, frames.builtin("dmr-themes"))
        ids = list(session.scalars(select(TextSource.id).order_by(TextSource.id)))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"source,code,start,end,memo\n{ids[0]},variation,,,\n{ids[1]},not_a_code,,,\n",
        encoding="utf-8",
    )
    span = tmp_path / "span.csv"
    span.write_text(f"source,code,start,end\n{ids[0]},variation,0,9999\n", encoding="utf-8")
    good = tmp_path / "good.csv"
    good.write_text(
        f"source,code,start,end,memo\n{ids[0]},variation,,,whole\n{ids[1]},external_finance,0,7,\n",
        encoding="utf-8",
    )
    with store.session() as session:
        frame = frames.get(session, "dmr-themes")
        with pytest.raises(TextError) as caught:
            coding.import_csv(session, bad, frame, "ann")
        assert f"{bad}: row 3, column code: 'not_a_code'" in str(caught.value)
        with pytest.raises(TextError, match="row 2, columns start/end: span 0-9999"):
            coding.import_csv(session, span, frame, "ann")
    with store.session() as session:
        frame = frames.get(session, "dmr-themes")
        assert coding.rows(session, frame) == []
        assert coding.import_csv(session, good, frame, "ann") == 2
        listed = coding.rows(session, frame)
        assert [(r.code, r.start, r.end, r.memo) for r in listed] == [
            ("variation", None, None, "whole"),
            ("external_finance", 0, 7, None),
        ]
