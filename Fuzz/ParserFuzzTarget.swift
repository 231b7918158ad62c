// Compiled together with Sources/LiaisonSchema into one fuzzing binary by scripts/fuzz.

/// libFuzzer entry point: whatever the bytes, parsing must not crash, an accepted document must
/// survive a write and re-parse unchanged, and reading it as an event must not crash either.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONParser().parse(bytes) else { return 0 }
    let written = JSONWriter.encode(value)
    guard let again = try? JSONParser().parse(written), again == value else {
        fatalError("a parsed document did not survive writing and parsing again")
    }
    _ = try? EventV1(json: value)
    return 0
}
