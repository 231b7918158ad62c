import Yams

/// Where each character of a YAML scalar's value stands in the source, so that an error at
/// column 12 of an expression points at that token in the file, not at the start of the value.
/// Plain, quoted and block scalars are followed line by line as far as the source text can be
/// matched to the value; anything that cannot be placed falls back to the scalar's start.
struct ScalarPositions {
    private let start: (line: Int, column: Int)
    private let valueLength: Int
    /// Source position per value offset, as far as the value could be followed; nil for
    /// characters that folding made up, such as the space that joins two lines.
    private let points: [(line: Int, column: Int)?]

    init(_ scalar: YAMLNode.Scalar, lines: [[Unicode.Scalar]]) {
        start = (scalar.mark?.line ?? 1, scalar.mark?.column ?? 1)
        let value = Array(scalar.string.unicodeScalars)
        valueLength = value.count
        let lineIndex = start.line - 1
        guard lineIndex >= 0, lineIndex < lines.count else {
            points = []
            return
        }
        switch scalar.style {
        case .singleQuoted, .doubleQuoted:
            points = Self.quoted(lines[lineIndex], from: start.column - 1, line: start.line, doubled: scalar.style == .singleQuoted)
        case .literal, .folded:
            points = Self.block(value, lines: lines, after: lineIndex)
        case .plain, .any:
            points = Self.plain(value, lines: lines, line: lineIndex, column: start.column - 1)
        }
    }

    /// The source line and column of the value's character at a 1-based `column`.
    func position(ofValueColumn column: Int) -> (line: Int, column: Int) {
        let offset = column - 1
        guard offset >= 0, offset <= valueLength else { return start }
        if offset < points.count, let next = points[offset...].lazy.compactMap({ $0 }).first { return next }
        if offset == valueLength, points.count == valueLength, let last = points.last, let last {
            return (last.line, last.column + 1)
        }
        return start
    }

    /// A quoted scalar on its opening line: `''` in single quotes and backslash escapes in
    /// double quotes each stand for one character of the value.
    private static func quoted(_ line: [Unicode.Scalar], from quote: Int, line number: Int, doubled: Bool) -> [(line: Int, column: Int)?] {
        var points: [(line: Int, column: Int)?] = []
        guard quote < line.count, line[quote] == (doubled ? "'" : "\"") else { return points }
        var index = quote + 1
        while index < line.count {
            let scalar = line[index]
            if doubled, scalar == "'" {
                guard index + 1 < line.count, line[index + 1] == "'" else { break }
                points.append((number, index + 1))
                index += 2
            } else if !doubled, scalar == "\"" {
                break
            } else if !doubled, scalar == "\\" {
                points.append((number, index + 1))
                let escape = index + 1 < line.count ? line[index + 1] : "\\"
                index += 2 + (escape == "x" ? 2 : escape == "u" ? 4 : escape == "U" ? 8 : 0)
            } else {
                points.append((number, index + 1))
                index += 1
            }
        }
        return points
    }

    /// A plain scalar: its first line from its column, later lines without their indentation,
    /// joined by single spaces (or newlines for blank lines) in the value.
    private static func plain(_ value: [Unicode.Scalar], lines: [[Unicode.Scalar]], line: Int, column: Int) -> [(line: Int, column: Int)?] {
        var pieces: [(line: Int, column: Int, text: ArraySlice<Unicode.Scalar>)] = [(line, column, lines[line][column...])]
        for next in (line + 1)..<min(lines.count, line + 1 + value.count) {
            let indentation = lines[next].prefix { $0 == " " || $0 == "\t" }.count
            pieces.append((next, indentation, lines[next][indentation...]))
        }
        return align(value, pieces)
    }

    /// A literal (`|`) or folded (`>`) block: the lines after the indicator, less the
    /// indentation of the first one that is not blank.
    private static func block(_ value: [Unicode.Scalar], lines: [[Unicode.Scalar]], after indicator: Int) -> [(line: Int, column: Int)?] {
        var pieces: [(line: Int, column: Int, text: ArraySlice<Unicode.Scalar>)] = []
        var indentation: Int?
        for next in (indicator + 1)..<max(indicator + 1, min(lines.count, indicator + 1 + value.count)) {
            let leading = lines[next].prefix { $0 == " " }.count
            if leading == lines[next].count { continue }
            let blockIndentation = indentation ?? leading
            guard leading >= blockIndentation else { break }
            indentation = blockIndentation
            pieces.append((next, blockIndentation, lines[next][blockIndentation...]))
        }
        return align(value, pieces)
    }

    /// Matches source pieces to the value in order, skipping the spaces and newlines that
    /// join lines in the value, and stops at the first character that does not match (a
    /// comment, or the end of the scalar).
    private static func align(
        _ value: [Unicode.Scalar], _ pieces: [(line: Int, column: Int, text: ArraySlice<Unicode.Scalar>)]
    ) -> [(line: Int, column: Int)?] {
        var points: [(line: Int, column: Int)?] = []
        for piece in pieces {
            guard let first = piece.text.first else { continue }
            while points.count < value.count, value[points.count] != first, value[points.count] == " " || value[points.count] == "\n" {
                points.append(nil)
            }
            for (offset, scalar) in zip(piece.text.indices, piece.text) {
                guard points.count < value.count, value[points.count] == scalar else { return points }
                points.append((piece.line + 1, offset + 1))
            }
        }
        return points
    }
}
