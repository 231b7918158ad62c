import Yams

extension PackReader {
    /// Compiles a scalar as an expression, reporting compile errors, parameters the pack does
    /// not define and a result of the wrong type at the offending token's place in the file.
    mutating func expression(_ node: YAMLNode, field: String, expecting: ExpressionType? = nil) -> RuleExpression? {
        guard case let .scalar(scalar) = node, Self.scalarKind(scalar) != .null else {
            let advice = node.scalar == nil ? "; put the whole expression in quotes" : ""
            report("expected an expression, found \(Self.describe(node))\(advice)", field: field, at: node)
            return nil
        }
        let positions = ScalarPositions(scalar, lines: lines)
        func reportAt(_ column: Int, _ message: String) {
            let position = positions.position(ofValueColumn: column)
            self.report(message, field: field, line: position.line, column: position.column)
        }
        let expression: RuleExpression
        do {
            expression = try RuleExpression(scalar.string)
        } catch {
            let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
            let meantAsText = quoted && !scalar.string.contains("\"") && !scalar.string.contains("'")
            let advice = meantAsText ? " (the YAML quotes are not part of the expression: write text as '\"text\"')" : ""
            reportAt(error.column, error.message + advice)
            return nil
        }
        var wellFormed = true
        for reference in expression.parameterReferences {
            guard let parameterNames, !parameterNames.contains(reference.name) else { continue }
            reportAt(reference.column, unknownParameter(reference.name, defined: parameterNames))
            wellFormed = false
        }
        if let expecting, expression.resultType != expecting, expression.resultType != .any {
            let leadingSpace = scalar.string.unicodeScalars.prefix { $0.properties.isWhitespace }.count
            reportAt(
                leadingSpace + 1,
                "the expression gives \(expression.resultType.withArticle), but \(expecting.withArticle) is needed here; \(Self.advice(for: expecting))")
            wellFormed = false
        }
        return wellFormed ? expression : nil
    }

    private func unknownParameter(_ name: String, defined parameterNames: [String]) -> String {
        guard !parameterNames.isEmpty else {
            return "unknown parameter '\(name)'; the pack defines no parameters, so add \(name) under params:"
        }
        let suggestion = Self.closest(to: name, among: parameterNames).map { " (did you mean '\($0)'?)" } ?? ""
        return "unknown parameter '\(name)'\(suggestion); the pack defines: \(parameterNames.joined(separator: ", ")); "
            + "add \(name) under params: or use one of those"
    }

    private static func advice(for type: ExpressionType) -> String {
        switch type {
        case .bool: "write a condition, e.g. context.surplus >= params.cd_surplus_threshold"
        case .timestamp: "turn a text field into a timestamp with timestamp(...), e.g. timestamp(event.data.departure) - 24h"
        case .string: "build the text with +, e.g. \"checkin:\" + event.data.bookingId"
        default: "change the expression to give \(type.withArticle)"
        }
    }
}
