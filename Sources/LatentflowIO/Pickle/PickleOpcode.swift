/// The pickle opcodes this reader understands: those `torch.save` writes (protocol 2 by
/// default) plus the protocol 3-5 framing, string and memo forms newer writers use. Any byte
/// outside this list is refused as an invalid opcode rather than guessed at.
enum PickleOpcode: UInt8 {
    case mark = 0x28  // (
    case stop = 0x2E  // .
    case binInt = 0x4A  // J: signed 32-bit
    case binInt1 = 0x4B  // K: unsigned 8-bit
    case binInt2 = 0x4D  // M: unsigned 16-bit
    case none = 0x4E  // N
    case binPersistentID = 0x51  // Q
    case reduce = 0x52  // R
    case binString = 0x54  // T: Python 2 str, 32-bit length
    case shortBinString = 0x55  // U: Python 2 str, 8-bit length
    case binUnicode = 0x58  // X
    case emptyList = 0x5D  // ]
    case append = 0x61  // a
    case build = 0x62  // b
    case global = 0x63  // c
    case appends = 0x65  // e
    case binGet = 0x68  // h
    case longBinGet = 0x6A  // j
    case emptyDict = 0x7D  // }
    case setItems = 0x75  // u
    case setItem = 0x73  // s
    case tuple = 0x74  // t
    case binPut = 0x71  // q
    case longBinPut = 0x72  // r
    case emptyTuple = 0x29  // )
    case binFloat = 0x47  // G: big-endian double
    // Protocol 2
    case proto = 0x80
    case newObject = 0x81
    case tuple1 = 0x85
    case tuple2 = 0x86
    case tuple3 = 0x87
    case newTrue = 0x88
    case newFalse = 0x89
    case long1 = 0x8A
    case long4 = 0x8B
    // Protocol 3
    case binBytes = 0x42  // B
    case shortBinBytes = 0x43  // C
    // Protocol 4
    case shortBinUnicode = 0x8C
    case binUnicode8 = 0x8D
    case binBytes8 = 0x8E
    case emptySet = 0x8F
    case addItems = 0x90
    case frozenSet = 0x91
    case stackGlobal = 0x93
    case memoize = 0x94
    case frame = 0x95
}
