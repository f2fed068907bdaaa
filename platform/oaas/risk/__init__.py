"""Order risk: a pure score from facts about an order and its merchant's history.

`facts.assess` turns counts and history the caller has read from the database into
a score of 0..100, a level and one plain-language fact per signal checked; it does
no I/O, so the same inputs always give the same assessment. `disposable` lists
well-known throwaway email domains.
"""
