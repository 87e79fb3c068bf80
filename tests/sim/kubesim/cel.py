"""A small subset of CEL, enough for the ValidatingAdmissionPolicies a lab writes: field
selection, `[...]` with a literal, `has()`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `&&`, `||`,
`!`, string/int/bool/null literals, list literals and `in`. Anything else is refused when
the expression is compiled (NotModelled), so a policy the simulator cannot judge is never
taken as passing.

Semantics from cel-spec (langdef.md): `&&` and `||` are commutative and absorb an error
when the other side decides (false && error is false); selecting a key a map lacks is the
error `no such key: K`; equality across types is false (heterogeneous equality), and a
bool is never equal to an int; `has(a.b)` tests the presence of `b` without an error."""

import re


class NotModelled(Exception):
    """The expression uses CEL the simulator does not evaluate."""


class CompileError(Exception):
    """A syntax error or an undeclared reference, as cel-go reports at compile time."""


class EvalError(Exception):
    pass


TOKEN = re.compile(r"""\s*(?:
    (?P<num>\d+)(?![\w.])
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>&&|\|\||==|!=|<=|>=|[<>!.()\[\],])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>\S)
)""", re.VERBOSE)


def _tokens(text):
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if match is None:
            break
        pos = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "other":
            if value in "+-*/%?:{}":
                raise NotModelled(f"the operator {value!r} is not modelled by the simulator's CEL subset")
            raise CompileError(f"Syntax error: token recognition error at: '{value}'")
        out.append((kind, value, match.start(kind)))
    out.append(("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text, variables):
        self.tokens = _tokens(text)
        self.i = 0
        self.variables = variables

    def peek(self):
        return self.tokens[self.i]

    def take(self, value=None):
        token = self.tokens[self.i]
        if value is not None and token[1] != value:
            raise CompileError(f"Syntax error: mismatched input '{token[1] or '<EOF>'}' expecting '{value}'")
        self.i += 1
        return token

    def parse(self):
        node = self.or_()
        if self.peek()[0] != "end":
            raise CompileError(f"Syntax error: extraneous input '{self.peek()[1]}'")
        return node

    def or_(self):
        node = self.and_()
        while self.peek()[1] == "||":
            self.take()
            node = ("||", node, self.and_())
        return node

    def and_(self):
        node = self.relation()
        while self.peek()[1] == "&&":
            self.take()
            node = ("&&", node, self.relation())
        return node

    def relation(self):
        node = self.unary()
        while self.peek()[1] in ("==", "!=", "<", "<=", ">", ">=", "in"):
            op = self.take()[1]
            node = (op, node, self.unary())
        return node

    def unary(self):
        if self.peek()[1] == "!":
            self.take()
            return ("!", self.unary())
        return self.member()

    def member(self):
        node = self.primary()
        while True:
            token = self.peek()
            if token[1] == ".":
                self.take()
                name = self.take()
                if name[0] != "name":
                    raise CompileError(f"Syntax error: mismatched input '{name[1]}' expecting IDENTIFIER")
                if self.peek()[1] == "(":
                    raise NotModelled(f"the method {name[1]}() is not modelled by the simulator's CEL subset")
                node = ("select", node, name[1])
            elif token[1] == "[":
                self.take()
                index = self.or_()
                self.take("]")
                if index[0] != "lit":
                    raise NotModelled("an index that is not a literal is not modelled by the simulator's CEL subset")
                node = ("index", node, index[1])
            else:
                return node

    def primary(self):
        kind, value, _ = self.take()
        if kind == "num":
            return ("lit", int(value))
        if kind == "str":
            body = value[1:-1]
            return ("lit", re.sub(r"\\(.)", r"\1", body))
        if kind == "name":
            if value in ("true", "false"):
                return ("lit", value == "true")
            if value == "null":
                return ("lit", None)
            if self.peek()[1] == "(":
                if value != "has":
                    raise NotModelled(f"the function {value}() is not modelled by the simulator's CEL subset")
                self.take("(")
                arg = self.member()
                self.take(")")
                if arg[0] != "select":
                    raise CompileError("invalid argument to has() macro")
                return ("has", arg)
            if value not in self.variables:
                if value in ("params", "namespaceObject", "authorizer", "variables"):
                    raise NotModelled(f"the variable {value} is not modelled by the simulator's CEL subset")
                raise CompileError(f"undeclared reference to '{value}' (in container '')")
            return ("var", value)
        if value == "(":
            node = self.or_()
            self.take(")")
            return node
        if value == "[":
            items = []
            while self.peek()[1] != "]":
                items.append(self.or_())
                if self.peek()[1] == ",":
                    self.take()
            self.take("]")
            return ("list", items)
        raise CompileError(f"Syntax error: mismatched input '{value or '<EOF>'}'")


VARIABLES = ("object", "oldObject", "request")


def compile_expression(text):
    """The parsed expression; raises CompileError or NotModelled."""
    return _Parser(text, VARIABLES).parse()


def _type(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "list"
    return "map"


def _equal(a, b):
    if _type(a) != _type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return a == b


def evaluate(node, env):
    """The value of a compiled expression; raises EvalError."""
    op = node[0]
    if op == "lit":
        return node[1]
    if op == "var":
        return env[node[1]]
    if op == "list":
        return [evaluate(item, env) for item in node[1]]
    if op in ("select", "index"):
        target = evaluate(node[1], env)
        key = node[2]
        if isinstance(target, dict):
            if key not in target:
                raise EvalError(f"no such key: {key}")
            return target[key]
        if isinstance(target, list) and op == "index" and isinstance(key, int):
            if not 0 <= key < len(target):
                raise EvalError(f"index out of bounds: {key}")
            return target[key]
        raise EvalError(f"no such overload: {_type(target)}.{key}")
    if op == "has":
        target = evaluate(node[1][1], env)
        if isinstance(target, dict):
            return node[1][2] in target
        raise EvalError("no such overload: has")
    if op == "!":
        value = evaluate(node[1], env)
        if not isinstance(value, bool):
            raise EvalError("no matching overload for '!_'")
        return not value
    if op in ("&&", "||"):
        decisive = op == "||"
        results = []
        for side in node[1:]:
            try:
                value = evaluate(side, env)
                if not isinstance(value, bool):
                    raise EvalError(f"no matching overload for '_{op}_'")
            except EvalError as error:
                results.append(error)
                continue
            if value is decisive:
                return decisive
            results.append(value)
        for result in results:
            if isinstance(result, EvalError):
                raise result
        return not decisive
    left, right = evaluate(node[1], env), evaluate(node[2], env)
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op == "in":
        if isinstance(right, list):
            return any(_equal(left, item) for item in right)
        if isinstance(right, dict):
            return any(_equal(left, key) for key in right)
        raise EvalError(f"no matching overload for '@in' applied to '({_type(left)}, {_type(right)})'")
    if _type(left) != _type(right) or _type(left) not in ("int", "string"):
        raise EvalError(f"no matching overload for '_{op}_' applied to '({_type(left)}, {_type(right)})'")
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
