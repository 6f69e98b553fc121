"""Issue 16 on real payloads (tests/fixtures/real, origins in its SOURCES.md): what each payload
means, as the producer reads it. Synthetic lines are named as such and stand only where no real
payload of that kind could be committed."""

from __future__ import annotations

import json

import pytest
from real_payloads import REAL, cassette_bodies, document, lines

from pulse_common.contracts import visibility
from pulse_producer.events import Delete, Hide, Refused, Upsert, UserCompliance
from pulse_producer.parsers import parse_line
from pulse_producer.parsers.x_v2 import UNKNOWN_AUTHOR


def _parse(name: str) -> list:
    return [event for line in lines(name) for event in parse_line(line)]


def _posts(events: list) -> dict:
    return {e.post.id: e.post for e in events if isinstance(e, Upsert)}


# ---------------------------------------------------------------- 6. one bad tweet never costs its neighbours


def test_a_recent_search_page_without_the_author_expansion_keeps_every_post_with_an_unknown_author():
    (body,) = cassette_bodies("x_v2/tweepy/test_client_search_recent_tweets.yaml")
    events = parse_line(body)
    posts = _posts(events)
    assert len(posts) == 10 and len(events) == 10
    assert {p.author.id for p in posts.values()} == {UNKNOWN_AUTHOR}
    # no created_at field either: the time inside the snowflake id (22:42:12.637 in the text)
    first = posts["x:1578516068309794817"]
    assert first.created_at.isoformat().startswith("2022-10-07T22:42:12")


def test_one_tweet_with_a_missing_field_is_refused_alone_and_its_neighbours_are_parsed():
    (body,) = cassette_bodies("x_v2/tweepy/test_client_get_tweets.yaml")
    page = json.loads(body)
    page["data"].insert(1, {"id": "1293594000000000000"})  # synthetic: a tweet without its text
    page["data"].append({"id": True, "text": "synthetic: a boolean id"})
    events = parse_line(json.dumps(page))
    assert [type(e).__name__ for e in events] == ["Upsert", "Refused", "Upsert", "Refused"]
    assert (events[1].reason, events[1].id) == ("not_a_tweet", "x:1293594000000000000")
    assert events[3].reason == "bad_id"
    assert {e.post.native_id for e in events if isinstance(e, Upsert)} == {
        "1293593516040269825", "1293595870563381249"}


def test_no_compliance_event_is_refused():
    paths = sorted((REAL / "x_compliance" / "v2_stream").glob("*.json"))
    assert len(paths) == 14
    for path in paths:
        events = parse_line(document(f"x_compliance/v2_stream/{path.name}"))
        assert not any(isinstance(e, Refused) for e in events), path.name


# ---------------------------------------------------------------- 2. retweets from the original


def test_a_v2_retweet_takes_text_and_entities_from_the_original_in_includes():
    (post,) = _posts(_parse("twarc2/mentions_tweet.jsonl")).values()
    assert post.post_type == "retweet" and post.referenced_id == "x:1589671906718134272"
    assert not post.text.startswith("RT @") and "…" not in post.text
    assert post.hashtags == ["Xbox", "PlayStation", "gaming"]
    assert len(post.mentions) == 8 and post.mentions[0] == "Xbox"
    assert len(post.urls) == 2 and not any("t.co" in u for u in post.urls)


def test_a_retweeters_own_engagement_is_not_the_originals_counters():
    for name in ("twarc2/mentions_tweet.jsonl", "twarc2/two_tweets.jsonl",
                 "x_v1/retweet_with_extended_tweet.jsonl"):
        (post,) = [p for p in _posts(_parse(name)).values() if p.post_type == "retweet"]
        assert post.engagement.total == 0, name


def test_a_v1_retweet_takes_the_originals_extended_full_text():
    (post,) = _posts(_parse("x_v1/retweet_with_extended_tweet.jsonl")).values()
    raw = json.loads(lines("x_v1/retweet_with_extended_tweet.jsonl")[0])
    assert post.text == raw["retweeted_status"]["extended_tweet"]["full_text"]
    assert raw["text"].startswith("RT @") and post.referenced_id == "x:867471562613575680"


# ---------------------------------------------------------------- 3. withheld and unavailable content


def test_tweets_with_withheld_objects_are_flagged_hidden():
    posts = list(_posts(_parse("twarc2/withheld_first3.jsonl")).values())
    assert [p.hidden for p in posts] == [[visibility.WITHHELD], [visibility.WITHHELD], []]


PLACEHOLDERS = {  # X's placeholder texts as quoted in FINDINGS.md (upstream twarc-csv lines, not committed)
    "@MariamBarghouti's account is temporarily unavailable because it violates the Twitter Media Policy. "
    "Learn more.": visibility.UNAVAILABLE,
    "@irshad_rathi's account has been withheld in India in response to a legal demand. Learn more.":
        visibility.WITHHELD,
    "This Tweet from @RexChapman has been withheld in response to a report from the copyright holder. "
    "Learn more.": visibility.WITHHELD,
}


@pytest.mark.parametrize("text", sorted(PLACEHOLDERS))
def test_xs_placeholder_texts_mark_the_post_hidden(text):
    # a real page, its tweet's text replaced by the placeholder (synthetic)
    line = json.loads(lines("twarc2/two_tweets.jsonl")[0])
    line["data"][0]["text"] = text
    line["data"][0].pop("referenced_tweets", None)
    (event,) = [e for e in parse_line(json.dumps(line)) if isinstance(e, Upsert)]
    assert event.post.hidden == [PLACEHOLDERS[text]]


def test_an_opinion_about_withholding_is_not_a_placeholder():
    opinion = "Outrageous that this account has been withheld, total censorship"
    assert visibility.placeholder_reason(opinion) is None


# ---------------------------------------------------------------- 1. edits


def test_an_edited_tweet_is_one_post_under_its_newest_id_whichever_version_arrives_first():
    newest, old = "x:1576994789110992896", "x:1576994746135764992"
    for order in (("edited_before", "edited_after"), ("edited_after", "edited_before")):
        events = [e for name in order for e in _parse(f"twarc2/{name}.jsonl")]
        assert set(_posts(events)) == {newest}
        assert {e.id for e in events if isinstance(e, Delete)} == {old}
        assert all(e.reason == "edited" for e in events if isinstance(e, Delete))
        assert _posts(events)[newest].text.startswith("hey :)")


def test_a_reply_to_a_superseded_version_references_the_surviving_post():
    (post,) = _posts(_parse("twarc2/quoted_edit.jsonl")).values()
    assert post.referenced_id == "x:1576994789110992896"


def test_tweet_edit_events_delete_every_older_version():
    (v2,) = parse_line(document("x_compliance/v2_stream/01_tweet_edit.json"))
    assert (v2.id, v2.reason) == ("x:1567233844205453313", "edited") and isinstance(v2, Delete)
    published = lines("x_compliance/v1_firehose/00_tweet_edit.json")
    repaired = b"".join(published).replace(b'"1557445923210514432"', b'"1557445923210514432",', 1)
    (v1,) = parse_line(repaired)  # X's published example misses one comma (SOURCES.md)
    assert (v1.id, v1.version) == ("x:1557433858676740098", 1660155761384)


# ---------------------------------------------------------------- 4. versions: observation time


def test_a_twarc2_post_is_versioned_by_when_it_was_collected_and_the_later_collection_wins():
    before = _posts(_parse("twarc2/edited_before.jsonl"))["x:1576994789110992896"]
    after = _posts(_parse("twarc2/edited_after.jsonl"))["x:1576994789110992896"]
    assert before.version == 1664820057000  # __twarc.retrieved_at 2022-10-03T18:00:57
    assert after.version == 1664820077000 and after.version > before.version


def test_replaying_the_same_file_twice_gives_the_same_versions():
    first = [(type(e).__name__, getattr(e, "id", None), getattr(e, "version", None) or e.post.version)
             for e in _parse("twarc2/withheld_first3.jsonl")]
    assert first == [(type(e).__name__, getattr(e, "id", None), getattr(e, "version", None) or e.post.version)
                     for e in _parse("twarc2/withheld_first3.jsonl")]


# ---------------------------------------------------------------- 5. compliance events, parsed


def test_every_v2_compliance_event_becomes_a_typed_event():
    expected = {
        "00_delete": (Delete, "x:601430178305220608", "compliance"),
        "02_withheld": (Hide, "x:601430178305220608", visibility.WITHHELD),
        "03_drop": (Hide, "x:601430178305220600", visibility.DROPPED),
        "04_undrop": (Hide, "x:601430178305220600", visibility.DROPPED),
        "05_scrub_geo": (UserCompliance, "x:1375036644", None),
        "06_user_delete": (UserCompliance, "x:1375036644", visibility.ACCOUNT_DELETED),
        "07_user_undelete": (UserCompliance, "x:1375036644", visibility.ACCOUNT_DELETED),
        "08_user_withheld": (UserCompliance, "x:1375036644", visibility.WITHHELD),
        "09_user_protect": (UserCompliance, "x:3182003550", visibility.PROTECTED),
        "10_user_unprotect": (UserCompliance, "x:3182003550", visibility.PROTECTED),
        "11_user_suspend": (UserCompliance, "x:1375036644", visibility.SUSPENDED),
        "12_user_unsuspend": (UserCompliance, "x:1375036644", visibility.SUSPENDED),
    }
    for name, (kind, target, reason) in expected.items():
        (event,) = parse_line(document(f"x_compliance/v2_stream/{name}.json"))
        assert isinstance(event, kind), name
        assert (getattr(event, "id", None) or event.user_id) == target, name
        assert event.reason == reason, name
        assert getattr(event, "on", True) is not name.split("_", 1)[1].startswith(("un", "user_un")), name
    assert parse_line(document("x_compliance/v2_stream/13_user_profile_modification.json")) == []


def test_every_v1_firehose_compliance_message_becomes_a_typed_event():
    kinds = {}
    for path in sorted((REAL / "x_compliance" / "v1_firehose").glob("*.json")):
        if path.name.startswith("00_"):
            continue  # not valid JSON as published (test above)
        (event,) = parse_line(document(f"x_compliance/v1_firehose/{path.name}"))
        kinds[path.stem[3:]] = event
    assert isinstance(kinds["status_withheld"], Hide) and kinds["status_withheld"].version == 1432228155593
    assert isinstance(kinds["drop"], Hide) and kinds["undrop"].on is False
    assert kinds["user_withheld"].user_id == "x:1375036644"
    assert kinds["scrub_geo"].user_id == "x:519761961" and kinds["scrub_geo"].action == "scrub_geo"
    assert {k for k, e in kinds.items() if isinstance(e, UserCompliance)} == {
        "scrub_geo", "user_delete", "user_undelete", "user_withheld", "user_protect", "user_unprotect",
        "user_suspend", "user_unsuspend"}


def test_twarc2_batch_compliance_lines_are_read_as_tweets_or_users_as_told():
    tweets = _parse("x_compliance/twarc2_batch/tweets_compliance.jsonl")
    assert [(type(e).__name__, e.id, e.reason) for e in tweets][:2] == [
        ("Hide", "x:1170025343920402432", visibility.PROTECTED),
        ("Hide", "x:1170147183095664640", visibility.ACCOUNT_DELETED)]
    users = [e for line in lines("x_compliance/twarc2_batch/users_compliance.jsonl")
             for e in parse_line(line, compliance_ids="users")]
    assert {(e.user_id, e.action) for e in users} == {("x:1482680858", "user_protect")}


def test_a_taken_down_bluesky_account_hides_its_posts_and_an_identity_event_is_nothing():
    account, identity = lines("jetstream/atproto_crates_account_identity.jsonl")
    (event,) = parse_line(account)
    assert isinstance(event, UserCompliance)
    assert (event.user_id, event.reason, event.on) == (
        "bluesky:did:plc:yn72uqr4ihkjfbz7us7buqsq", visibility.SUSPENDED, True)
    assert parse_line(identity) == []
