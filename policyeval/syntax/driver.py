"""Run a Lark LALR parser's own tables and lexer patterns without building a parse tree.

Lark spends most of a `.pel` parse on machinery the model builder does not need: a `Token`
for every keyword and brace, a `Tree` and position `Meta` for every rule, then a second
pass (the transformer) over that tree. `FastParser` reads the same parse table and the
same per-state regular expressions of the contextual lexer from an already built (or
cached) `Lark` object and calls one action per rule as the rule is reduced, with the
children Lark's tree builder would give it and the span `propagate_positions` would give
it. It follows Lark's semantics exactly for text in the language; for anything else (a
character no terminal of the state matches, a token the table has no action for) it
raises `Rejected` at once, and the caller asks Lark itself, whose errors carry the
diagnostics. A grammar feature it does not reproduce raises `Unsupported` at construction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from policyeval.errors import Span

if TYPE_CHECKING:
    from lark import Lark

#: What a rule's action receives: the rule's span (None for a rule that matched no text)
#: and its children, shaped as Lark's tree builder would shape them. An action stands for
#: Lark's tree node, so it must not return a `PelToken` (the driver takes tokens for the
#: lexer's own, as Lark's position propagation does).
Action = Callable[[Span | None, list[Any]], Any]

# how a reduced rule turns into a value
_INLINE = 0  # `_rule`: its children are spliced into the parent's
_EXPAND1 = 1  # `?rule`: a single child stands for the rule
_CALL = 2  # a named rule: its action is called

# shortcuts for rules of one symbol that call no action (most reductions): the value on
# top of the stack stays (`_KEEP`), is wrapped in a list of one (`_WRAP`) or dropped for
# an empty list (`_DROP`); the span is the symbol's either way
_KEEP = 1
_WRAP = 2
_DROP = 3


#: The version of the `tables()` format; `from_tables` refuses any other.
TABLES_FORMAT = 1


class PelToken(str):
    """A lexed terminal: its text, type and position, read as `lark.Token`'s are.

    The driver makes its own tokens so that a parser loaded from stored tables runs without
    importing Lark; the builder and comment handling read only `type`, the positions and
    the text, which a `lark.Token` from the tree path gives alike. Equality is Lark's: the
    text, and the type when both sides are tokens.
    """

    type: str
    start_pos: int | None
    line: int | None
    column: int | None
    end_line: int | None
    end_column: int | None
    end_pos: int | None

    def __new__(
        cls,
        type_: str,
        value: str,
        start_pos: int | None = None,
        line: int | None = None,
        column: int | None = None,
        end_line: int | None = None,
        end_column: int | None = None,
        end_pos: int | None = None,
    ) -> PelToken:
        token = str.__new__(cls, value)
        token.type = type_
        token.start_pos = start_pos
        token.line = line
        token.column = column
        token.end_line = end_line
        token.end_column = end_column
        token.end_pos = end_pos
        return token

    @property
    def value(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"PelToken({self.type!r}, {str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PelToken) and self.type != other.type:
            return False
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__

    def __reduce__(self) -> tuple[Any, ...]:
        where = (self.start_pos, self.line, self.column, self.end_line, self.end_column)
        return (PelToken, (self.type, str(self), *where, self.end_pos))


_make_token = PelToken


def _always_one(size: int, keep: list[tuple[int, bool]] | None) -> bool:
    """Whether a rule's alternative always has exactly one child (a `?rule` then never
    calls its action)."""
    if keep is None:
        return size == 1
    return len(keep) == 1 and not keep[0][1]


class _OnDemand(dict[int, Any]):
    """A per-state table whose row is made the first time the parser meets the state: a
    small file meets few of the grammar's ~500 states, and a cold start pays for each."""

    def __init__(self, make: Callable[[int], Any]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, state: int) -> Any:
        made = self[state] = self._make(state)
        return made


class Unsupported(Exception):
    """The grammar or Lark build uses something this driver does not reproduce."""


class Rejected(Exception):
    """The text is not in the language (or the driver stops short): ask Lark."""


#: A parse: the start rule's value and the comment tokens seen, in order.
Result = tuple[Any, list[PelToken]]

#: How a rule reduces: size, nonterminal, how the value is made (`_INLINE`, `_EXPAND1`,
#: `_CALL`), the kept children (index, spliced) or None for all as they are, the name its
#: action has, and the one-symbol shortcut (`_KEEP`, `_WRAP`, `_DROP`) or None.
_Spec = tuple[int, str, int, list[tuple[int, bool]] | None, str, int | None]


def _callable_rules(specs: Any) -> frozenset[str]:
    """The names of the rules whose action can be called (a `?rule` of one kept child
    never is)."""
    return frozenset(
        name
        for size, _, mode, keep, name, _ in specs
        if mode == _CALL or (mode == _EXPAND1 and not _always_one(size, keep))
    )


class FastParser:
    """The tables of one `Lark(parser="lalr", lexer="contextual")` object, ready to drive.

    Made from the Lark object (`FastParser(lark, comment_types)`), or from the JSON-able
    data `tables()` gives (`FastParser.from_tables`), which needs no Lark import: a cold
    start that loads those tables pays for neither Lark's import nor its cache load.
    """

    start_state: int
    end_state: int
    rule_names: frozenset[str]
    kept_terminals: frozenset[str]
    comment_types: frozenset[str]
    #: per parser state: its action row (a shift's or goto's next state, an int; a reduce's
    #: rule spec, a tuple), made the first time the state is met
    actions: dict[int, dict[str, Any]]
    #: per parser state: match function, keyword re-typing, ignored and newline types
    #: (filled as states are met: compiling every state's expression costs a cold start
    #: more than a small file's whole parse)
    lexers: dict[int, tuple[Any, ...]]

    def __init__(self, lark: Lark, comment_types: frozenset[str]) -> None:
        try:
            self._setup(lark, comment_types)
        except (AttributeError, KeyError, TypeError) as error:  # a Lark we do not know
            raise Unsupported(f"unexpected Lark internals: {error!r}") from error

    def _setup(self, lark: Lark, comment_types: frozenset[str]) -> None:
        from lark import Tree
        from lark.parsers.lalr_analysis import Shift

        options = lark.options
        if (
            options.parser != "lalr"
            or options.lexer != "contextual"
            or options.keep_all_tokens
            or options.postlex is not None
            or options.transformer is not None
            or options.tree_class not in (None, Tree)
            or len(options.start) != 1
            or options.regex
            or options.use_bytes
            or options.g_regex_flags
        ):
            raise Unsupported("only a plain LALR parser with a contextual lexer is driven")
        start = options.start[0]
        frontend = lark.parser
        table = frontend.parser.parser.parse_table
        self.start_state = table.start_states[start]
        self.end_state = table.end_states[start]

        # rules: size, nonterminal, how the value is made, which children are kept
        specs: dict[Any, _Spec] = {}
        for rule in lark.rules:
            if rule.options.empty_indices or rule.options.template_source:
                raise Unsupported(f"rule {rule} uses placeholders or templates")
            if rule.origin.name.startswith("_") and rule.alias:
                raise Unsupported(f"inlined rule {rule} has an alias")
            expansion = rule.expansion
            keep: list[tuple[int, bool]] = []
            for index, symbol in enumerate(expansion):
                filtered = symbol.is_term and getattr(symbol, "filter_out", False)
                if rule.options.keep_all_tokens or not filtered:
                    expand = not symbol.is_term and symbol.name.startswith("_")
                    keep.append((index, expand))
            plain = len(keep) == len(expansion) and not any(expand for _, expand in keep)
            name = rule.alias or rule.origin.name
            if rule.origin.name.startswith("_") and not rule.alias:
                mode = _INLINE
            elif rule.options.expand1 and not rule.alias:
                mode = _EXPAND1
            else:
                mode = _CALL
            single = None
            if len(expansion) == 1 and mode != _CALL:
                if plain:
                    single = _KEEP if mode == _EXPAND1 else _WRAP
                elif not keep:
                    single = _DROP if mode == _INLINE else None
                elif mode == _INLINE:  # one `_rule` child: its list is this rule's list
                    single = _KEEP
            specs[rule] = (
                len(expansion),
                rule.origin.name,
                mode,
                None if plain else keep,
                name,
                single,
            )
        #: rules whose action can be called (a `?rule` of one kept token never is)
        self.rule_names = _callable_rules(specs.values())

        # a shift (or a goto after a reduce) is the next state, an int; a reduce is the
        # rule's spec. Terminal and rule names never collide, so one dict per state serves.
        def row(state: int) -> dict[str, Any]:
            return {
                symbol: int(arg) if action is Shift else specs[arg]
                for symbol, (action, arg) in table.states[state].items()
            }

        self.actions = _OnDemand(row)

        # the contextual lexer: per parser state, Lark's own compiled alternation and the
        # keyword re-typing of its "unless" callbacks, as a dict
        lexer = frontend.lexer
        user_callbacks = set(frontend.lexer_conf.callbacks)
        if not user_callbacks <= comment_types:
            raise Unsupported("lexer callbacks other than comment sinks")
        # terminals some rule keeps as a child get a `PelToken`; the others only a position
        kept_terminals: set[str] = set()
        for rule in lark.rules:
            kept = specs[rule][3]
            indices = range(len(rule.expansion)) if kept is None else [i for i, _ in kept]
            kept_terminals |= {rule.expansion[i].name for i in indices if rule.expansion[i].is_term}
        self._lark_specs = specs
        self._lark_table = table
        self._contextual = lexer
        self._built: dict[int, tuple[Any, ...]] = {}
        self.lexers = _OnDemand(self._lexer_for)
        self.kept_terminals = frozenset(kept_terminals)
        self.comment_types = comment_types

    def _lexer_parts(self, state: int) -> tuple[Any, ...]:
        """Lark's lexer of one parser state: compiled pattern, keyword re-typing, ignored
        and newline types (the lexer is shared by the states that accept the same terminals,
        and so is what this returns)."""
        from lark.lexer import PatternStr, UnlessCallback

        basic = self._contextual.lexers[state]
        entry = self._built.get(id(basic))
        if entry is None:
            scanner = basic.scanner  # builds `basic.callback`
            if len(scanner._mres) != 1:
                raise Unsupported("a lexer state needs several regular expressions")
            retype: dict[str, dict[str, str]] = {}
            for type_, callback in basic.callback.items():
                if type_ in self.comment_types and type_ in basic.ignore_types:
                    continue
                if not isinstance(callback, UnlessCallback):
                    raise Unsupported(f"lexer callback for {type_}")
                words: dict[str, str] = {}
                for terminal in callback.scanner.terminals:
                    pattern = terminal.pattern
                    if not isinstance(pattern, PatternStr) or pattern.flags:
                        raise Unsupported(f"keyword {terminal.name} is not a plain string")
                    words[pattern.value] = terminal.name
                retype[type_] = words
            entry = (
                scanner._mres[0],
                retype,
                frozenset(basic.ignore_types),
                frozenset(basic.newline_types),
            )
            self._built[id(basic)] = entry
        return entry

    def _lexer_for(self, state: int) -> tuple[Any, ...]:
        compiled, *rest = self._lexer_parts(state)
        return (compiled.match, *rest)

    def tables(self) -> dict[str, Any]:
        """Every table of a parser made from a Lark object, as JSON-able data for
        `from_tables` (this compiles every state's lexer: it is for writing a cache)."""
        try:
            table = self._lark_table
            specs = self._lark_specs
        except AttributeError:
            raise Unsupported("only a parser made from a Lark object gives its tables") from None
        from lark.parsers.lalr_analysis import Shift

        rules = list(specs.values())
        index = {rule: number for number, rule in enumerate(specs)}
        states = sorted(table.states)
        if states != list(range(len(states))):
            raise Unsupported("parser states are not numbered 0..n-1")
        rows = [
            {
                symbol: int(arg) if action is Shift else ~index[arg]
                for symbol, (action, arg) in table.states[state].items()
            }
            for state in states
        ]
        lexers: list[list[Any]] = []
        seen: dict[int, int] = {}
        state_lexers: list[int] = []
        for state in states:
            parts = self._lexer_parts(state)
            number = seen.get(id(parts))
            if number is None:
                compiled, retype, ignore, newline = parts
                number = seen[id(parts)] = len(lexers)
                lexers.append(
                    [compiled.pattern, compiled.flags, retype, sorted(ignore), sorted(newline)]
                )
            state_lexers.append(number)
        return {
            "format": TABLES_FORMAT,
            "start": self.start_state,
            "end": self.end_state,
            "comments": sorted(self.comment_types),
            "kept": sorted(self.kept_terminals),
            "rules": [[*spec[:3], spec[3], *spec[4:]] for spec in rules],
            "states": rows,
            "lexers": lexers,
            "state_lexers": state_lexers,
        }

    @classmethod
    def from_tables(cls, data: Any) -> FastParser:
        """A parser from `tables()` data, without Lark. Data of any other shape raises
        ValueError (a cache that is not what `tables()` wrote is never used)."""
        try:
            return cls._from_tables(data)
        except (AttributeError, IndexError, KeyError, TypeError, re.error) as error:
            raise ValueError(f"not a parser's tables: {error!r}") from error

    @classmethod
    def _from_tables(cls, data: Any) -> FastParser:
        def check(ok: bool) -> None:
            if not ok:
                raise ValueError("not a parser's tables")

        check(type(data) is dict and data["format"] == TABLES_FORMAT)
        rows: list[dict[str, int]] = data["states"]
        lexers: list[list[Any]] = data["lexers"]
        state_lexers: list[int] = data["state_lexers"]
        check(type(rows) is list and type(lexers) is list and type(state_lexers) is list)
        count = len(rows)
        check(len(state_lexers) == count)
        check(all(type(n) is int and 0 <= n < len(lexers) for n in state_lexers))
        rules: list[_Spec] = []
        for raw in data["rules"]:
            size, origin, mode, keep, name, single = raw
            check(type(size) is int and size >= 0 and type(origin) is str and type(name) is str)
            check(mode in (_INLINE, _EXPAND1, _CALL) and single in (None, _KEEP, _WRAP, _DROP))
            pairs: list[tuple[int, bool]] | None = None
            if keep is not None:
                pairs = [(i, e) for i, e in keep]
                check(all(type(i) is int and 0 <= i < size and type(e) is bool for i, e in pairs))
            rules.append((size, origin, mode, pairs, name, single))
        lowest = -len(rules)
        for entries in rows:  # (JSON object keys are strings)
            check(type(entries) is dict)
            steps = entries.values()
            check(all(type(step) is int for step in steps))
            check(not steps or (lowest <= min(steps) and max(steps) < count))
        for lexer in lexers:
            pattern, flags, retype, ignore, newline = lexer
            check(type(pattern) is str and type(flags) is int)
            check(type(retype) is dict and type(ignore) is list and type(newline) is list)
            for words in retype.values():
                check(type(words) is dict)
                check(all(type(k) is str and type(v) is str for k, v in words.items()))
            check(all(type(t) is str for t in ignore + newline))
        names = [data["comments"], data["kept"]]
        check(all(type(n) is list and all(type(t) is str for t in n) for n in names))
        start, end = data["start"], data["end"]
        check(type(start) is int and type(end) is int and 0 <= start < count and 0 <= end < count)

        def row(state: int) -> dict[str, Any]:
            return {s: step if step >= 0 else rules[~step] for s, step in rows[state].items()}

        compiled: dict[int, tuple[Any, ...]] = {}

        def lexer_for(state: int) -> tuple[Any, ...]:
            number = state_lexers[state]
            entry = compiled.get(number)
            if entry is None:
                pattern, flags, retype, ignore, newline = lexers[number]
                match = re.compile(pattern, flags).match
                entry = compiled[number] = (match, retype, frozenset(ignore), frozenset(newline))
            return entry

        self = cls.__new__(cls)
        self.start_state = start
        self.end_state = end
        self.rule_names = _callable_rules(rules)
        self.actions = _OnDemand(row)
        self.lexers = _OnDemand(lexer_for)
        self.kept_terminals = frozenset(data["kept"])
        self.comment_types = frozenset(data["comments"])
        return self

    def parse(self, text: str, path: str, rule_actions: Mapping[str, Action]) -> Result:
        """Lex, parse and reduce `text`, calling `rule_actions[name](span, children)`.

        Raises `Rejected` as soon as the text leaves the language; actions already called
        by then have seen a prefix only, so the caller discards what they built.
        """
        lexers = self.lexers
        actions = self.actions
        kept = self.kept_terminals
        comment_types = self.comment_types
        end_state = self.end_state
        make_token = _make_token
        comments: list[PelToken] = []
        state_stack: list[int] = [self.start_state]
        value_stack: list[Any] = []
        pos_stack: list[tuple[int, int, int, int] | None] = []
        pos = 0
        line = 1
        line_start = 0
        length = len(text)
        last: tuple[int, int, int, int] | None = None
        position: tuple[int, int, int, int] | None
        while True:
            # -- next token, lexed in the state after the last shift (Lark's contextual lexer)
            state = state_stack[-1]
            match, retype, ignore, newline_types = lexers[state]
            found = None
            while pos < length:
                found = match(text, pos)
                if found is None:
                    raise Rejected
                type_ = found.lastgroup or ""
                if type_ not in ignore:
                    break
                # whitespace or a comment: skipped, but lines are counted
                end = found.end()
                start_line = line
                column = pos - line_start + 1
                if type_ in newline_types:
                    newlines = text.count("\n", pos, end)
                    if newlines:
                        line += newlines
                        line_start = text.rindex("\n", pos, end) + 1
                if type_ in comment_types:
                    where = (pos, start_line, column, line, end - line_start + 1, end)
                    comments.append(make_token(type_, found.group(), *where))
                pos = end
                found = None
            if found is not None:
                value: str = found.group()
                end = found.end()
                column = pos - line_start + 1
                end_line = line
                if type_ in newline_types:
                    newlines = value.count("\n")
                    if newlines:
                        line_start = pos + value.rindex("\n") + 1
                        end_line = line + newlines
                end_column = end - line_start + 1
                words = retype.get(type_)
                if words is not None:
                    type_ = words.get(value, type_)
                position = (line, column, end_line, end_column)
                token_value: Any = None
                if type_ in kept:
                    where = (pos, line, column, end_line, end_column, end)
                    token_value = make_token(type_, value, *where)
                pos = end
                line = end_line
                last = position
                is_end = False
            else:
                type_ = "$END"
                is_end = True
                position = last
                token_value = None
            # -- feed it: reduce as long as the table says so, then shift
            while True:
                try:
                    step = actions[state][type_]
                except KeyError:
                    raise Rejected from None
                if type(step) is int:
                    if is_end:
                        raise Rejected
                    state_stack.append(step)
                    value_stack.append(token_value)
                    pos_stack.append(position)
                    state = step
                    break
                size, origin, mode, keep, name, single = step
                if single is not None:
                    if single == _WRAP:
                        value_stack[-1] = [value_stack[-1]]
                    elif single == _DROP:
                        value_stack[-1] = []
                    state = actions[state_stack[-2]][origin]
                    state_stack[-1] = state
                    if is_end and state == end_state:
                        return value_stack[-1], comments
                    continue
                if size:
                    values = value_stack[-size:]
                    first = pos_stack[-size]
                    final = pos_stack[-1]
                    if first is None or final is None:
                        spans = [p for p in pos_stack[-size:] if p is not None]
                        first = spans[0] if spans else None
                        final = spans[-1] if spans else None
                    del state_stack[-size:]
                    del value_stack[-size:]
                    del pos_stack[-size:]
                else:
                    values = []
                    first = final = None
                if keep is None:
                    children = values
                else:
                    children = []
                    for index, expand in keep:
                        if expand:
                            if children:
                                children += values[index]
                            else:  # left recursion: grow the child's list in place
                                children = values[index]
                        else:
                            children.append(values[index])
                if first is None or final is None:
                    span_tuple = None
                elif first is final:
                    span_tuple = first
                else:
                    span_tuple = (first[0], first[1], final[2], final[3])
                if mode == _INLINE:
                    result: Any = children
                elif mode == _EXPAND1 and len(children) == 1:
                    result = children[0]
                    if isinstance(result, PelToken):
                        # Lark's parent then sees the token's own position, not the rule's
                        # (`"(" expr ")"` of a `?rule` loses its parentheses)
                        own: Any = (result.line, result.column, result.end_line)
                        span_tuple = (*own, result.end_column)
                else:
                    span = None if span_tuple is None else Span(path, *span_tuple)
                    result = rule_actions[name](span, children)
                state = actions[state_stack[-1]][origin]
                state_stack.append(state)
                value_stack.append(result)
                pos_stack.append(span_tuple)
                if is_end and state == end_state:
                    return result, comments
