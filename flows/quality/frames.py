"""The frames the suites validate: each table with the derived columns its rules compare."""

import polars as pl


def checked_frames(
    article: pl.DataFrame,
    comment: pl.DataFrame,
    mention: pl.DataFrame,
    texts: pl.DataFrame,
    entity: pl.DataFrame,
) -> dict[str, pl.DataFrame]:
    """The tables to validate, with the derived columns their cross-row rules compare."""
    return {
        "article": _article_checked(article, comment, mention, texts),
        "comment": _comment_checked(article, comment),
        "entity": entity,
        "entity_mention": _mention_checked(article, comment, mention, texts, entity),
    }


def _article_checked(
    article: pl.DataFrame, comment: pl.DataFrame, mention: pl.DataFrame, texts: pl.DataFrame
) -> pl.DataFrame:
    """Articles with their comment count, author-less share and mentions per 1,000 words."""
    per_page_comments = comment.group_by("article_id").agg(
        comment_rows=pl.len().cast(pl.Int32),
        authorless_comment_share=pl.col("author").is_null().mean(),
    )
    per_page_words = texts.group_by("article_id").agg(
        words=pl.col("text").str.count_matches(r"\S+").sum()
    )
    per_page_mentions = mention.group_by("article_id").agg(mentions=pl.len())
    return (
        article.join(per_page_comments, on="article_id", how="left")
        .join(per_page_words, on="article_id", how="left")
        .join(per_page_mentions, on="article_id", how="left")
        .select(
            *article.columns,
            "authorless_comment_share",
            comment_rows=pl.col("comment_rows").fill_null(0),
            mentions_per_1000_words=pl.when(pl.col("words") > 0).then(
                1000 * pl.col("mentions").fill_null(0) / pl.col("words")
            ),
        )
    )


def _comment_checked(article: pl.DataFrame, comment: pl.DataFrame) -> pl.DataFrame:
    """Comments with their article found, their expected position and parent's depth."""
    # A reply's parent must be an earlier comment of the same article.
    parents = comment.select(
        "article_id",
        parent_comment_id="comment_id",
        parent_position="position",
        parent_depth_plus_one=pl.col("depth") + 1,
    ).unique(["article_id", "parent_comment_id"], keep="first", maintain_order=True)
    return comment.join(parents, on=["article_id", "parent_comment_id"], how="left").select(
        *comment.columns,
        article_id_found=_found("article_id", article["article_id"]),
        expected_position=pl.col("position").rank("ordinal").over("article_id").cast(pl.Int32),
        parent_depth_plus_one=pl.when(pl.col("parent_position") < pl.col("position")).then(
            "parent_depth_plus_one"
        ),
    )


def _mention_checked(
    article: pl.DataFrame,
    comment: pl.DataFrame,
    mention: pl.DataFrame,
    texts: pl.DataFrame,
    entity: pl.DataFrame,
) -> pl.DataFrame:
    """Mentions with their keys found and the text at their offsets."""
    return mention.join(
        texts, on=["article_id", "comment_id", "field"], how="left", nulls_equal=True
    ).select(
        *mention.columns,
        entity_id_found=_found("entity_id", entity["entity_id"]),
        article_id_found=_found("article_id", article["article_id"]),
        comment_id_found=_found("comment_id", comment["comment_id"]),
        text_length=pl.col("text").str.len_chars().cast(pl.Int32),
        text_at_offsets=pl.col("text").str.slice(
            pl.col("char_start"), pl.col("char_end") - pl.col("char_start")
        ),
    )


def _found(column: str, keys: pl.Series) -> pl.Expr:
    """`column` where its value is one of `keys`, else null.

    A relationship rule expects the two columns equal. GX's own in-set rule would take the
    keys as a parameter, which GX copies value by value into every rule of the suite on each
    validation: with a batch's tens of thousands of comment ids that took most of the time.
    """
    return pl.when(pl.col(column).is_in(keys.implode())).then(pl.col(column))
