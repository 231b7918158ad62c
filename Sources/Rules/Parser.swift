/// A parsed expression node with the source fragment it came from, so errors can name it.
struct Node: Sendable {
    indirect enum Kind: Sendable {
        case literal(ExpressionValue)
        case list([Node])
        case root(PathRoot)
        case member(Node, String)
        case index(Node, Node)
        case call(Function, [Node])
        case unary(UnaryOperator, Node)
        case binary(BinaryOperator, Node, Node)
    }

    let kind: Kind
    let column: Int
    let fragment: String
    /// Levels of nodes from here down, bounded so that evaluation's recursion stays shallow.
    let height: Int

    init(kind: Kind, column: Int, fragment: String) {
        self.kind = kind
        self.column = column
        self.fragment = fragment
        let children: [Node] =
            switch kind {
            case .literal, .root: []
            case let .list(elements): elements
            case let .member(base, _): [base]
            case let .index(base, index): [base, index]
            case let .call(_, arguments): arguments
            case let .unary(_, operand): [operand]
            case let .binary(_, left, right): [left, right]
            }
        height = 1 + (children.map(\.height).max() ?? 0)
    }
}

/// The names a path can start from.
enum PathRoot: String, Sendable, CaseIterable {
    case event, context, params
}

enum UnaryOperator: String, Sendable {
    case not, negate = "-"
}

enum BinaryOperator: String, Sendable {
    case or, and
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case `in`, notIn = "not in"
    case plus = "+", minus = "-", times = "*", divide = "/", remainder = "%"
}

/// Limits that keep compilation and evaluation cheap whatever a rule pack contains.
enum ExpressionLimits {
    static let maxSourceLength = 4_000
    static let maxNestingDepth = 64
    /// Nodes from the root to the deepest leaf, e.g. 200 terms joined by `+`. Evaluation
    /// recurses once per level; at this height it fits a 512 KiB thread stack in release builds.
    static let maxTreeHeight = 200
    static let maxListElements = 1_000
}

/// Recursive-descent parser, one function per precedence level, lowest first.
struct Parser {
    private let tokens: [Token]
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var depth = 0

    init(source: String) throws(ExpressionError) {
        scalars = Array(source.unicodeScalars)
        guard scalars.count <= ExpressionLimits.maxSourceLength else {
            throw ExpressionError(
                column: ExpressionLimits.maxSourceLength + 1, token: "",
                message: "expression is \(scalars.count) characters long; the limit is \(ExpressionLimits.maxSourceLength)")
        }
        var lexer = Lexer(source)
        tokens = try lexer.tokens()
    }

    mutating func parse() throws(ExpressionError) -> Node {
        if case .end = current.kind { throw error("the expression is empty") }
        let node = try orExpression()
        guard case .end = current.kind else { throw error("unexpected '\(current.text)' after a complete expression") }
        return node
    }

    private var current: Token { tokens[min(position, tokens.count - 1)] }

    private func error(_ message: String, at token: Token? = nil) -> ExpressionError {
        let token = token ?? current
        return ExpressionError(column: token.column, token: token.text, message: message)
    }

    private mutating func advance() -> Token {
        let token = current
        position = min(position + 1, tokens.count - 1)
        return token
    }

    private func isSymbol(_ symbol: Token.Symbol) -> Bool { current.kind == .symbol(symbol) }
    private func isKeyword(_ keyword: Token.Keyword) -> Bool { current.kind == .keyword(keyword) }

    private mutating func expect(_ symbol: Token.Symbol, _ context: String) throws(ExpressionError) {
        guard isSymbol(symbol) else {
            let found = current.kind == .end ? "the end of the expression" : "'\(current.text)'"
            throw error("expected '\(symbol.rawValue)' \(context), found \(found)")
        }
        _ = advance()
    }

    /// The source text from a start column up to the end of the last consumed token.
    private func fragment(from column: Int) -> String {
        let previous = tokens[max(0, position - 1)]
        let end = min(scalars.count, previous.column - 1 + previous.text.unicodeScalars.count)
        let start = min(column - 1, end)
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[start..<end])
        return String(view)
    }

    private func node(_ kind: Node.Kind, from column: Int) throws(ExpressionError) -> Node {
        let node = Node(kind: kind, column: column, fragment: fragment(from: column))
        guard node.height <= ExpressionLimits.maxTreeHeight else {
            throw error("expression chains more than \(ExpressionLimits.maxTreeHeight) operations; split it into smaller rules")
        }
        return node
    }

    /// Runs `body` one nesting level deeper than `opening`, the bracket or operator that opened it.
    private mutating func nested<Result>(
        in opening: Token, _ body: (inout Parser) throws(ExpressionError) -> Result
    ) throws(ExpressionError) -> Result {
        guard depth < ExpressionLimits.maxNestingDepth else {
            throw error("expression is nested more than \(ExpressionLimits.maxNestingDepth) levels deep; split it up", at: opening)
        }
        depth += 1
        defer { depth -= 1 }
        return try body(&self)
    }

    private mutating func orExpression() throws(ExpressionError) -> Node {
        let column = current.column
        var left = try andExpression()
        while isKeyword(.or) {
            _ = advance()
            let right = try andExpression()
            left = try node(.binary(.or, left, right), from: column)
        }
        return left
    }

    private mutating func andExpression() throws(ExpressionError) -> Node {
        let column = current.column
        var left = try notExpression()
        while isKeyword(.and) {
            _ = advance()
            let right = try notExpression()
            left = try node(.binary(.and, left, right), from: column)
        }
        return left
    }

    private mutating func notExpression() throws(ExpressionError) -> Node {
        guard isKeyword(.not) else { return try comparison() }
        let opening = advance()
        let operand = try nested(in: opening) { parser throws(ExpressionError) in try parser.notExpression() }
        return try node(.unary(.not, operand), from: opening.column)
    }

    private mutating func comparison() throws(ExpressionError) -> Node {
        let column = current.column
        let left = try additive()
        guard let (op, _) = try comparisonOperator() else { return left }
        let right = try additive()
        if let (_, chained) = try comparisonOperator() {
            throw error("comparisons cannot be chained; combine them with 'and'", at: chained)
        }
        return try node(.binary(op, left, right), from: column)
    }

    private mutating func comparisonOperator() throws(ExpressionError) -> (BinaryOperator, Token)? {
        let token = current
        switch token.kind {
        case .symbol(.equal): _ = advance(); return (.equal, token)
        case .symbol(.notEqual): _ = advance(); return (.notEqual, token)
        case .symbol(.less): _ = advance(); return (.less, token)
        case .symbol(.lessOrEqual): _ = advance(); return (.lessOrEqual, token)
        case .symbol(.greater): _ = advance(); return (.greater, token)
        case .symbol(.greaterOrEqual): _ = advance(); return (.greaterOrEqual, token)
        case .keyword(.in): _ = advance(); return (.in, token)
        case .keyword(.not):
            guard position + 1 < tokens.count, tokens[position + 1].kind == .keyword(.in) else {
                throw error("'not' here must be followed by 'in'; to negate a condition write 'not' before it")
            }
            _ = advance()
            _ = advance()
            return (.notIn, token)
        default: return nil
        }
    }

    private mutating func additive() throws(ExpressionError) -> Node {
        let column = current.column
        var left = try multiplicative()
        while true {
            let op: BinaryOperator
            if isSymbol(.plus) { op = .plus } else if isSymbol(.minus) { op = .minus } else { return left }
            _ = advance()
            let right = try multiplicative()
            left = try node(.binary(op, left, right), from: column)
        }
    }

    private mutating func multiplicative() throws(ExpressionError) -> Node {
        let column = current.column
        var left = try unary()
        while true {
            let op: BinaryOperator
            if isSymbol(.times) { op = .times } else if isSymbol(.divide) { op = .divide } else if isSymbol(.remainder) { op = .remainder } else { return left }
            _ = advance()
            let right = try unary()
            left = try node(.binary(op, left, right), from: column)
        }
    }

    private mutating func unary() throws(ExpressionError) -> Node {
        guard isSymbol(.minus) else { return try postfix() }
        let opening = advance()
        let operand = try nested(in: opening) { parser throws(ExpressionError) in try parser.unary() }
        return try node(.unary(.negate, operand), from: opening.column)
    }

    private mutating func postfix() throws(ExpressionError) -> Node {
        let column = current.column
        var base = try primary()
        while true {
            if isSymbol(.dot) {
                _ = advance()
                guard case let .identifier(name) = current.kind else {
                    throw error("expected a field name after '.'; for names with other characters write [\"name\"]")
                }
                _ = advance()
                base = try node(.member(base, name), from: column)
            } else if isSymbol(.openBracket) {
                let opening = advance()
                let index = try nested(in: opening) { parser throws(ExpressionError) in try parser.orExpression() }
                try expect(.closeBracket, "to close the index")
                base = try node(.index(base, index), from: column)
            } else {
                return base
            }
        }
    }

    private mutating func primary() throws(ExpressionError) -> Node {
        let token = current
        switch token.kind {
        case let .number(value):
            _ = advance()
            return try node(.literal(.decimal(value)), from: token.column)
        case let .duration(seconds):
            _ = advance()
            return try node(.literal(.duration(seconds: seconds)), from: token.column)
        case let .string(text):
            _ = advance()
            return try node(.literal(.string(text)), from: token.column)
        case .keyword(.true), .keyword(.false):
            _ = advance()
            return try node(.literal(.bool(token.kind == .keyword(.true))), from: token.column)
        case .keyword(.null):
            _ = advance()
            return try node(.literal(.null), from: token.column)
        case .symbol(.openParen):
            _ = advance()
            let inner = try nested(in: token) { parser throws(ExpressionError) in try parser.orExpression() }
            try expect(.closeParen, "to close the parenthesis opened at column \(token.column)")
            return Node(kind: inner.kind, column: token.column, fragment: fragment(from: token.column))
        case .symbol(.openBracket):
            _ = advance()
            let elements = try nested(in: token) { parser throws(ExpressionError) in try parser.listElements(openedAt: token) }
            return try node(.list(elements), from: token.column)
        case let .identifier(name):
            _ = advance()
            if isSymbol(.openParen) { return try call(name, token: token) }
            guard let root = PathRoot(rawValue: name) else {
                throw error("unknown name '\(name)'; paths start with event, context or params (strings need quotes)", at: token)
            }
            return try node(.root(root), from: token.column)
        case .end:
            throw error("the expression ends too early; a value is missing")
        default:
            throw error("expected a value, found '\(token.text)'")
        }
    }

    private mutating func listElements(openedAt open: Token) throws(ExpressionError) -> [Node] {
        var elements: [Node] = []
        if isSymbol(.closeBracket) {
            _ = advance()
            return elements
        }
        while true {
            guard elements.count < ExpressionLimits.maxListElements else {
                throw error("list has more than \(ExpressionLimits.maxListElements) elements")
            }
            elements.append(try orExpression())
            if isSymbol(.comma) {
                _ = advance()
                continue
            }
            try expect(.closeBracket, "to close the list opened at column \(open.column)")
            return elements
        }
    }

    private mutating func call(_ name: String, token: Token) throws(ExpressionError) -> Node {
        guard let function = Function(rawValue: name) else {
            let known = Function.allCases.map(\.rawValue).joined(separator: ", ")
            throw error("unknown function '\(name)'; the functions are \(known)", at: token)
        }
        _ = advance()
        let arguments = try nested(in: token) { parser throws(ExpressionError) in
            var arguments: [Node] = []
            if parser.isSymbol(.closeParen) {
                _ = parser.advance()
                return arguments
            }
            while true {
                arguments.append(try parser.orExpression())
                if parser.isSymbol(.comma) {
                    _ = parser.advance()
                    continue
                }
                try parser.expect(.closeParen, "to close the call to \(name)()")
                return arguments
            }
        }
        return try node(.call(function, arguments), from: token.column)
    }
}
