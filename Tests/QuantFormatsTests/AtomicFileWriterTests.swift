import Foundation
import Testing
@testable import QuantFormats
import TestScratch

@Suite(.tags(.unit)) struct AtomicFileWriterTests {
    @Test func commitMovesIntoPlaceAndReplaces() throws {
        let folder = try temporaryDirectory()
        let path = folder + "/out.bin"
        try writeBytes([9, 9], to: path)
        let writer = try AtomicFileWriter(destination: path)
        try writer.write([1, 2, 3])
        #expect(try readBytes(path) == [9, 9])  // old content until commit
        try writer.commit()
        #expect(try readBytes(path) == [1, 2, 3])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["out.bin"])
    }

    @Test func symlinkedDestinationIsReplacedNotWrittenThrough() throws {
        let folder = try temporaryDirectory()
        try writeBytes([5, 5], to: folder + "/target.bin")
        try FileManager.default.createSymbolicLink(atPath: folder + "/out.bin", withDestinationPath: folder + "/target.bin")
        let writer = try AtomicFileWriter(destination: folder + "/out.bin")
        try writer.write([1, 2, 3])
        try writer.commit()
        #expect(try readBytes(folder + "/target.bin") == [5, 5])
        #expect(try readBytes(folder + "/out.bin") == [1, 2, 3])
        #expect(try FileManager.default.attributesOfItem(atPath: folder + "/out.bin")[.type] as? FileAttributeType == .typeRegular)
    }

    @Test func committedFileGetsTheUmaskPermissions() throws {
        let folder = try temporaryDirectory()
        let writer = try AtomicFileWriter(destination: folder + "/out.bin")
        try writer.write([1])
        try writer.commit()
        let mask = umask(0)
        umask(mask)
        let mode = try FileManager.default.attributesOfItem(atPath: folder + "/out.bin")[.posixPermissions] as! Int
        #expect(mode == Int(0o666 & ~mask))
    }

    @Test func droppedWriterLeavesNoFile() throws {
        let folder = try temporaryDirectory()
        do {
            let writer = try AtomicFileWriter(destination: folder + "/out.bin")
            try writer.write([UInt8](repeating: 1, count: 10 << 20))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test func staleTemporariesAreRemoved() throws {
        let folder = try temporaryDirectory()
        let stale = folder + "/.out.gguf" + AtomicFileWriter.temporaryMarker + "abc123"
        try writeBytes([1], to: stale)
        try writeBytes([2], to: folder + "/keep.gguf")
        #expect(AtomicFileWriter.removeStaleTemporaries(for: folder + "/out.gguf") == [stale])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["keep.gguf"])
    }

    @Test func unwritableFolderIsATypedError() {
        guard case .ioFailure(operation: "create temporary file", errno: _) =
            formatErrorReason({ _ = try AtomicFileWriter(destination: "/nonexistent-folder/out.gguf") }) else {
            Issue.record("expected ioFailure"); return
        }
    }
}
