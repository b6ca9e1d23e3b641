"""The archive's schema, as an ordered list of migrations (sqlite-utils ``Migrations``).

Never edit a released migration: add a new one. ``SCHEMA_VERSION`` is the number of
migrations this release knows; an archive written by a newer release is refused rather
than silently misread.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("embedarchive")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("runs").create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "command": str,
            "argv": str,
            "software": str,
            "settings": str,
            "operator": str,
            "hostname": str,
        },
        pk="id",
    )
    db.table("articles").create(
        {
            "id": int,
            "source": str,
            "source_kind": str,
            "url": str,
            "final_url": str,
            "sha256": str,
            "size": int,
            "raw_path": str,
            "encoding": str,
            "is_html": int,
            "title": str,
            "text": str,
            "retrieved_at": str,
            "http_status": int,
            "http_headers": str,
            "run_id": int,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
    )
    db.table("articles").create_index(["source", "sha256"], unique=True)
    db.table("posts").create(
        {
            "id": int,
            "platform": str,
            "post_id": str,
            "url": str,
            "uploader": str,
            "uploader_id": str,
            "user_id": str,
            "created_at": str,
            "text": str,
            "lang": str,
            "reply_to_id": str,
            "quoted_post_id": str,
            "counts": str,
            "status": str,
            "first_captured_at": str,
            "last_captured_at": str,
            "last_capture_id": int,
        },
        pk="id",
    )
    db.table("posts").create_index(["platform", "post_id"], unique=True)
    db.table("detections").create(
        {
            "id": int,
            "article_id": int,
            "platform": str,
            "kind": str,
            "markup": str,
            "offset": int,
            "url": str,
            "post_id": str,
            "author": str,
            "handle": str,
            "date": str,
            "text": str,
            "links": str,
            "snippet": str,
            "resolution": str,
            "resolved_url": str,
            "resolved_post_id": str,
            "resolution_hops": str,
            "resolution_error": str,
            "resolved_at": str,
            "post_pk": int,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id"), ("post_pk", "posts", "id")],
    )
    db.table("detections").create_index(["article_id", "platform", "offset"], unique=True)
    db.table("captures").create(
        {
            "id": int,
            "post_pk": int,
            "run_id": int,
            "platform": str,
            "post_id": str,
            "target_url": str,
            "started_at": str,
            "finished_at": str,
            "method": str,
            "status": str,
            "error": str,
            "retryable": int,
            "attempts": str,
            "data": str,
            "raw": str,
            "raw_sha256": str,
            "parent_capture_id": int,
        },
        pk="id",
        foreign_keys=[("post_pk", "posts", "id"), ("run_id", "runs", "id")],
    )
    db.table("captures").create_index(["post_pk"])
    db.table("media").create(
        {
            "id": int,
            "capture_id": int,
            "post_pk": int,
            "position": int,
            "kind": str,
            "sha256": str,
            "size": int,
            "mime": str,
            "path": str,
            "source_url": str,
            "final_url": str,
            "info": str,
        },
        pk="id",
        foreign_keys=[("capture_id", "captures", "id"), ("post_pk", "posts", "id")],
    )
    db.table("media").create_index(["sha256"])
    db.table("media").create_index(["post_pk"])
    db.table("http_exchanges").create(
        {
            "id": int,
            "run_id": int,
            "article_id": int,
            "detection_id": int,
            "capture_id": int,
            "purpose": str,
            "method": str,
            "url": str,
            "status": int,
            "location": str,
            "http_version": str,
            "request_headers": str,
            "response_headers": str,
            "body_sha256": str,
            "body_size": int,
            "complete": int,
            "started_at": str,
            "elapsed_ms": float,
            "error": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
    )
    db.table("http_exchanges").create_index(["capture_id"])
    db.table("http_exchanges").create_index(["article_id"])


@migrations()
def m002_append_only(db: Database) -> None:
    """Evidence rows can be added, never changed or removed: SQLite itself refuses.

    A detection's own rendering is fixed; only its resolution (and the post it links to)
    may be filled in later. The ``posts`` table is a summary of the latest capture and is
    deliberately not covered.
    """
    for table in ("articles", "captures", "media", "http_exchanges", "runs"):
        db.execute(
            f"""create trigger {table}_no_delete before delete on {table}
                begin select raise(abort, '{table} are append-only evidence'); end"""
        )
    for table in ("articles", "captures", "media", "http_exchanges"):
        db.execute(
            f"""create trigger {table}_no_update before update on {table}
                begin select raise(abort, '{table} are append-only evidence'); end"""
        )
    db.execute(
        """create trigger runs_no_rewrite before update of started_at, command, argv, software,
               settings, operator, hostname on runs
           begin select raise(abort, 'runs are append-only evidence'); end"""
    )
    db.execute(
        """create trigger detections_as_shown_fixed before update of article_id, platform, kind,
               markup, offset, url, post_id, author, handle, date, text, links, snippet on detections
           begin select raise(abort, 'what the article showed is fixed evidence'); end"""
    )
    db.execute(
        """create trigger detections_no_delete before delete on detections
           begin select raise(abort, 'detections are append-only evidence'); end"""
    )


#: Whitespace is not a difference: embeds re-flow text, so it is removed before comparing.
def _squash(column: str) -> str:
    out = column
    for code in (9, 10, 13, 32, 160, 8203):
        out = f"replace({out}, char({code}), '')"
    return out


_ITEM_COLUMNS = (
    "id, post_pk, detection_id, platform, status, changed, author, handle, posted_at, captured_at"
)
_FTS_COLUMNS = "text, author, handle, article_titles, renderings"


def _refresh(kind: str, key: str) -> str:
    """SQL recomputing the search row of one post (``kind='post'``) or of one orphan embed."""
    if kind == "post":
        row_id, view, column = key, "search_post_docs", "post_pk"
    else:
        row_id, view, column = f"-({key})", "search_embed_docs", "detection_id"
    return f"""
        delete from search_items where id = {row_id};
        delete from search_fts where rowid = {row_id};
        insert into search_items ({_ITEM_COLUMNS})
          select {_ITEM_COLUMNS} from {view} where {column} = {key};
        insert into search_fts (rowid, {_FTS_COLUMNS})
          select id, {_FTS_COLUMNS} from {view} where {column} = {key};"""


@migrations()
def m003_search_index(db: Database) -> None:
    """Full-text search and facets for the web UI, kept in sync by triggers (writers never know).

    ``embed_comparisons``: one row per detection linked to a post, flagging where what the
    article showed differs from what was captured (text ignoring whitespace, handle ignoring
    case, display name, date more than a day apart, since the article's date is local).
    ``search_items`` (narrow, for filters and facets) and ``search_fts`` (FTS5, the words) hold
    one row per post (id = post id) and one per embed that never reached a post (id = minus the
    detection id). Triggers recompute a row from the ``search_*_docs`` views whenever a post,
    a detection or a capture with new text is written; article titles are fixed evidence (m002).
    """
    # Indexes for the read side (web pages and ``show``): no lookup of a page scans a table.
    db.table("detections").create_index(["post_pk"])
    db.table("posts").create_index(["platform", "status"])
    db.table("captures").create_index(["finished_at"])
    db.table("media").create_index(["capture_id"])
    db.table("media").create_index(["sha256", "size"])  # the home page's media total, index-only
    db.table("http_exchanges").create_index(["detection_id"])
    statements = [
        f"""create view embed_comparisons as
            select d.id as detection_id, d.post_pk, d.article_id,
              coalesce(d.text is not null and p.text is not null
                and {_squash("d.text")} <> {_squash("p.text")}, 0) as text_differs,
              coalesce(lower(ltrim(d.handle, '@')) <> lower(ltrim(p.uploader_id, '@')), 0)
                as handle_differs,
              coalesce(trim(d.author) <> trim(p.uploader), 0) as author_differs,
              coalesce(abs(julianday(d.date) - julianday(substr(p.created_at, 1, 10))) > 1, 0)
                as date_differs
            from detections d join posts p on p.id = d.post_pk""",
        """create view search_post_docs as
            select p.id as id, p.id as post_pk, null as detection_id, p.platform, p.status,
              (exists (select 1 from embed_comparisons e where e.post_pk = p.id
                       and (e.text_differs or e.handle_differs or e.author_differs
                            or e.date_differs))
               or (select count(distinct case when json_valid(c.data)
                                         then json_extract(c.data, '$.text') end)
                   from captures c where c.post_pk = p.id) > 1) as changed,
              p.uploader as author, p.uploader_id as handle, p.created_at as posted_at,
              coalesce(p.last_captured_at, p.first_captured_at) as captured_at, p.text,
              (select group_concat(title, ' | ') from (select distinct a.title
                 from detections d join articles a on a.id = d.article_id
                 where d.post_pk = p.id and a.title is not null)) as article_titles,
              (select group_concat(line, char(10)) from (select
                 coalesce(d.author, '') || ' ' || coalesce(d.handle, '') || ' '
                 || coalesce(d.text, '') as line
                 from detections d where d.post_pk = p.id)) as renderings
            from posts p""",
        """create view search_embed_docs as
            select -d.id as id, null as post_pk, d.id as detection_id, d.platform,
              case d.resolution when 'failed' then 'failed' when 'unresolved' then 'unresolved'
                else 'pending' end as status,
              0 as changed, d.author, d.handle, d.date as posted_at, d.resolved_at as captured_at,
              null as text, a.title as article_titles,
              coalesce(d.text, d.url, d.snippet) as renderings
            from detections d join articles a on a.id = d.article_id
            where d.post_pk is null""",
        """create table search_items (
            id integer primary key, post_pk integer, detection_id integer, platform text,
            status text, changed integer, author text, handle text, posted_at text,
            captured_at text)""",
        "create index search_items_platform on search_items (platform)",
        "create index search_items_status on search_items (status)",
        "create index search_items_changed on search_items (changed) where changed",
        "create index search_items_handle on search_items (handle collate nocase)",
        "create index search_items_captured_at on search_items (captured_at)",
        f"""create virtual table search_fts using fts5({_FTS_COLUMNS},
            tokenize='unicode61 remove_diacritics 2')""",
        f"""create trigger search_posts_ai after insert on posts begin
              {_refresh("post", "new.id")} end""",
        f"""create trigger search_posts_au after update on posts begin
              {_refresh("post", "new.id")} end""",
        """create trigger search_posts_ad after delete on posts begin
              delete from search_items where id = old.id;
              delete from search_fts where rowid = old.id; end""",
        # A capture only matters to search when its text is new (edited between captures).
        f"""create trigger search_captures_ai after insert on captures
            when json_valid(new.data) and json_extract(new.data, '$.text')
                 is not (select text from posts where id = new.post_pk) begin
              {_refresh("post", "new.post_pk")} end""",
        f"""create trigger search_detections_ai after insert on detections begin
              {_refresh("embed", "new.id")} {_refresh("post", "new.post_pk")} end""",
        f"""create trigger search_detections_au after update on detections
            when new.post_pk is not old.post_pk or new.resolution is not old.resolution begin
              {_refresh("embed", "new.id")} {_refresh("post", "old.post_pk")}
              {_refresh("post", "new.post_pk")} end""",
    ]
    for view in ("search_post_docs", "search_embed_docs"):
        statements.append(
            f"insert into search_items ({_ITEM_COLUMNS}) select {_ITEM_COLUMNS} from {view}"
        )
        statements.append(
            f"insert into search_fts (rowid, {_FTS_COLUMNS}) select id, {_FTS_COLUMNS} from {view}"
        )
    for sql in statements:
        db.execute(sql)


@migrations()
def m004_evidence_files(db: Database) -> None:
    """WARC files and records, manifests with their hash chain, and RFC 3161 timestamps.

    ``warc_records`` links each exchange (and each resource/metadata record embedarchive wrote)
    to its WARC by the file's name, since a WARC is named by its sha256 only once closed;
    ``warc_files`` gets a row at that moment. All four are append-only, like the evidence
    they prove; a WARC file's row is final once written.
    """
    db.table("warc_files").create(
        {
            "id": int,
            "name": str,
            "path": str,
            "sha256": str,
            "size": int,
            "records": int,
            "created_at": str,
            "sealed_at": str,
        },
        pk="id",
    )
    db.table("warc_files").create_index(["name"], unique=True)
    db.table("warc_records").create(
        {
            "id": int,
            "warc_file": str,
            "offset": int,
            "length": int,
            "record_id": str,
            "record_type": str,
            "target_uri": str,
            "digest": str,
            "role": str,
            "run_id": int,
            "exchange_id": int,
            "article_id": int,
            "detection_id": int,
            "capture_id": int,
            "media_id": int,
        },
        pk="id",
        foreign_keys=[("exchange_id", "http_exchanges", "id")],
    )
    for column in ("warc_file", "exchange_id", "capture_id", "article_id"):
        db.table("warc_records").create_index([column])
    db.table("manifests").create(
        {
            "id": int,
            "seq": int,
            "kind": str,
            "subject": str,
            "path": str,
            "sha256": str,
            "previous": str,
            "created_at": str,
        },
        pk="id",
    )
    db.table("manifests").create_index(["seq"], unique=True)
    db.table("manifests").create_index(["kind", "subject"])
    db.table("timestamps").create(
        {
            "id": int,
            "manifest_id": int,
            "manifest_sha256": str,
            "tsa_url": str,
            "path": str,
            "sha256": str,
            "gen_time": str,
            "serial": str,
            "tsa_name": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("manifest_id", "manifests", "id")],
    )
    # What existed before manifests: only these rows may be covered later by a "backfill"
    # manifest ('embedarchive seal'); a row added behind the chain's back never is.
    db.table("manifest_baseline").create({"tbl": str, "max_id": int}, pk="tbl")
    for table in ("runs", "articles", "detections", "captures", "media", "http_exchanges"):
        db.execute(
            f"insert into manifest_baseline select '{table}', coalesce(max(id), 0) from {table}"
        )
    for table in ("warc_records", "manifests", "timestamps", "warc_files", "manifest_baseline"):
        for action in ("update", "delete"):
            db.execute(
                f"""create trigger {table}_no_{action} before {action} on {table}
                    begin select raise(abort, '{table} are append-only evidence'); end"""
            )


@migrations()
def m005_findings_and_history(db: Database) -> None:
    """As shown vs as captured, what changed between captures, and recoveries.

    ``findings``: one row per finding of one embed against one capture (``kind`` match,
    edited, deleted, author-mismatch, date-mismatch; ``source`` live or wayback; ``rule`` the
    version of the comparison). ``post_changes``: one row per change between two captures of
    a post (``kind`` text-edited, media-changed, unavailable, available-again). ``recoveries``:
    one row per web-archive lookup (``kind`` wayback for a post that is gone, snowflake for an
    embed without a link), with the queries, the candidates and their scores. All three are
    append-only: a later capture adds rows, it never rewrites what was found before.
    """
    db.table("findings").create(
        {
            "id": int,
            "detection_id": int,
            "capture_id": int,
            "post_pk": int,
            "source": str,
            "kind": str,
            "details": str,
            "rule": str,
            "computed_at": str,
            "run_id": int,
        },
        pk="id",
        foreign_keys=[
            ("detection_id", "detections", "id"),
            ("capture_id", "captures", "id"),
            ("post_pk", "posts", "id"),
        ],
    )
    db.table("findings").create_index(["detection_id", "capture_id", "kind", "rule"], unique=True)
    db.table("findings").create_index(["post_pk"])
    db.table("post_changes").create(
        {
            "id": int,
            "post_pk": int,
            "from_capture_id": int,
            "to_capture_id": int,
            "kind": str,
            "details": str,
            "detected_at": str,
            "run_id": int,
        },
        pk="id",
        foreign_keys=[
            ("post_pk", "posts", "id"),
            ("from_capture_id", "captures", "id"),
            ("to_capture_id", "captures", "id"),
        ],
    )
    db.table("post_changes").create_index(["from_capture_id", "to_capture_id", "kind"], unique=True)
    db.table("post_changes").create_index(["post_pk"])
    db.table("recoveries").create(
        {
            "id": int,
            "run_id": int,
            "kind": str,
            "detection_id": int,
            "post_pk": int,
            "outcome": str,
            "method": str,
            "query": str,
            "candidates": str,
            "chosen_post_id": str,
            "score": float,
            "threshold": float,
            "capture_ids": str,
            "error": str,
            "started_at": str,
            "finished_at": str,
        },
        pk="id",
        foreign_keys=[("detection_id", "detections", "id"), ("post_pk", "posts", "id")],
    )
    db.table("recoveries").create_index(["detection_id"])
    db.table("recoveries").create_index(["post_pk"])
    for table in ("findings", "post_changes", "recoveries"):
        for action in ("update", "delete"):
            db.execute(
                f"""create trigger {table}_no_{action} before {action} on {table}
                    begin select raise(abort, '{table} are append-only evidence'); end"""
            )


def _differing_finding(*kinds: str, field: str | None = None) -> str:
    """SQL: the detection's judged capture (``c``) has a finding of one of ``kinds`` (naming
    ``field``, for an author-mismatch)."""
    test = "f.kind in ({})".format(", ".join(f"'{k}'" for k in kinds))
    if field:
        test += f" and '{field}' in (select value from json_each(f.details, '$.fields'))"
    return f"""exists (select 1 from findings f where f.detection_id = c.detection_id
               and f.capture_id = c.capture_id and f.rule = c.rule and f.source = c.source
               and {test})"""


def _embed_comparisons(latest: str) -> str:
    """SQL: the ``embed_comparisons`` view, each linked embed against the finding picked first
    (live first, then by ``latest``) and what the findings of that capture and rule say."""
    return f"""create view embed_comparisons as
        select c.detection_id, c.post_pk, c.article_id, c.capture_id, c.source, c.rule,
          c.capture_id is not null as compared,
          {_differing_finding("edited")} as text_differs,
          {_differing_finding("author-mismatch", field="handle")} as handle_differs,
          {_differing_finding("author-mismatch", field="author")} as author_differs,
          {_differing_finding("date-mismatch")} as date_differs,
          {_differing_finding("deleted")} as deleted,
          {_differing_finding("edited", "author-mismatch", "date-mismatch")} as differs
        from (select d.id as detection_id, d.post_pk, d.article_id, l.capture_id, l.source,
                l.rule
              from detections d left join findings l on l.id = (
                select g.id from findings g where g.detection_id = d.id
                order by g.source = 'live' desc, {latest} limit 1)
              where d.post_pk is not null) c"""


def _post_changed(pk: str) -> str:
    """SQL: an embed of the post differs from its capture, or the post changed between captures.

    A post that is gone is not "changed": its status (``unavailable``) says so.
    """
    return f"""(exists (select 1 from embed_comparisons e where e.post_pk = {pk} and e.differs)
               or exists (select 1 from post_changes x where x.post_pk = {pk}
                          and x.kind in ('text-edited', 'media-changed')))"""


@migrations()
def m006_findings_drive_comparisons(db: Database) -> None:
    """``findings`` (m005) becomes the one source of truth for "as shown vs as captured".

    ``embed_comparisons`` is redefined from the findings of each linked embed against its latest
    judged capture (live first, the web-archive snapshot when only that was judged) instead of
    comparing columns in SQL; ``compared`` is 0 when no finding exists yet. A post's search row is
    ``changed`` when an embed of it differs (edited, author-mismatch, date-mismatch) or
    ``post_changes`` recorded an edit or new media; the rows are refreshed when either table gets
    a row, and the capture trigger that guessed edits from texts is dropped.
    """
    statements = [
        "drop view search_post_docs",
        "drop view embed_comparisons",
        "drop trigger search_captures_ai",
        _embed_comparisons("g.capture_id desc, g.id desc"),
        f"""create view search_post_docs as
            select p.id as id, p.id as post_pk, null as detection_id, p.platform, p.status,
              {_post_changed("p.id")} as changed,
              p.uploader as author, p.uploader_id as handle, p.created_at as posted_at,
              coalesce(p.last_captured_at, p.first_captured_at) as captured_at, p.text,
              (select group_concat(title, ' | ') from (select distinct a.title
                 from detections d join articles a on a.id = d.article_id
                 where d.post_pk = p.id and a.title is not null)) as article_titles,
              (select group_concat(line, char(10)) from (select
                 coalesce(d.author, '') || ' ' || coalesce(d.handle, '') || ' '
                 || coalesce(d.text, '') as line
                 from detections d where d.post_pk = p.id)) as renderings
            from posts p""",
        f"""create trigger search_findings_ai after insert on findings
            when new.post_pk is not null begin {_refresh("post", "new.post_pk")} end""",
        f"""create trigger search_post_changes_ai after insert on post_changes
            when new.kind in ('text-edited', 'media-changed') begin
              {_refresh("post", "new.post_pk")} end""",
        f"""update search_items set changed = {_post_changed("search_items.post_pk")}
            where post_pk is not null""",
    ]
    for sql in statements:
        db.execute(sql)


@migrations()
def m007_work_queue(db: Database) -> None:
    """The resumable work queue: every article and target of a batch before work starts.

    ``queue_batches``: one row per batch (``key`` identifies the same inputs, so re-running the
    same command continues an unfinished batch; ``spec`` the inputs and options as JSON).
    ``queue``: one row per unit of work (``kind`` article, target, or detection: a short link
    whose resolution failed), with its ``state`` (pending, running, done, failed, unavailable),
    ``attempts``, ``last_error``, ``retryable`` and ``next_attempt_at`` (backoff for ``retry``).
    Unlike the evidence, the queue is bookkeeping and is updated in place.
    """
    db.table("queue_batches").create(
        {
            "id": int,
            "key": str,
            "command": str,
            "spec": str,
            "created_at": str,
            "finished_at": str,
            "run_id": int,
        },
        pk="id",
    )
    db.table("queue_batches").create_index(["key"])
    db.table("queue").create(
        {
            "id": int,
            "batch_id": int,
            "kind": str,
            "key": str,
            "position": int,
            "parent_id": int,
            "payload": str,
            "state": str,
            "attempts": int,
            "last_error": str,
            "retryable": int,
            "next_attempt_at": str,
            "started_at": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("batch_id", "queue_batches", "id")],
        defaults={"state": "pending", "attempts": 0, "retryable": 0},
    )
    db.table("queue").create_index(["batch_id", "kind", "key"], unique=True)
    db.table("queue").create_index(["state", "next_attempt_at"])


@migrations()
def m008_article_scans(db: Database) -> None:
    """Which detector read which stored article, and how many embeds it found.

    ``detector`` is a fingerprint of the detection code and registry, so a re-run over
    unchanged bytes can reuse the stored detections, while a newer detector reads the article
    again. A scan is written after its detections, so a run killed in between simply reads
    the article again. Append-only, like the detections it vouches for.
    """
    db.table("article_scans").create(
        {
            "id": int,
            "article_id": int,
            "detector": str,
            "found": int,
            "scanned_at": str,
            "run_id": int,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id"), ("run_id", "runs", "id")],
    )
    db.table("article_scans").create_index(["article_id", "detector"], unique=True)
    for action in ("update", "delete"):
        db.execute(
            f"""create trigger article_scans_no_{action} before {action} on article_scans
                begin select raise(abort, 'article scans are append-only evidence'); end"""
        )


@migrations()
def m009_link_baseline(db: Database) -> None:
    """The detections linked to a post before links were vouched for by manifests.

    Only these may have their link covered later by a ``backfill`` manifest ('embedarchive
    seal'): a link made since has its own ``link`` manifest, and one made behind the chain's
    back stays reported. Append-only, like ``manifest_baseline``.
    """
    db.execute("create table link_baseline (detection_id integer primary key)")
    db.execute("insert into link_baseline select id from detections where post_pk is not null")
    for action in ("update", "delete"):
        db.execute(
            f"""create trigger link_baseline_no_{action} before {action} on link_baseline
                begin select raise(abort, 'link_baseline is append-only evidence'); end"""
        )


@migrations()
def m010_latest_judgement(db: Database) -> None:
    """``embed_comparisons`` reads each embed's latest judgement: the capture and rule of the
    finding computed last (live first), not the newest capture judged under any rule.

    A rule may judge another capture than the rule before it (findings-3 judges a gone post by
    its latest Wayback snapshot *with text*, not a later script shell): ordering by capture
    kept the old rule's verdict on the later capture in front of the new one.
    """
    db.execute("drop view embed_comparisons")
    db.execute(_embed_comparisons("g.id desc"))
    db.execute(
        f"""update search_items set changed = {_post_changed("search_items.post_pk")}
            where post_pk is not null"""
    )


SCHEMA_VERSION = len(migrations.pending(Database(memory=True)))
#: Migrations an archive can be read without, on read-only media where none can be applied:
#: they only redefine a view, whose older definition still answers.
READABLE_WITHOUT = frozenset({"m010_latest_judgement"})
