import Foundation
@testable import QuantCore
import QuantFormats
import Testing
import TestScratch

/// The integer kernels against the reference decoder: with the activations fixed to their int8
/// values d·q, the kernel computes Σ wⱼ·d·qⱼ with exact integer block sums, so the only
/// difference from a float64 dot is f32 rounding of the per-block scaling (bound relative to
/// Σ|wⱼxⱼ|). The activation quantizer is checked on its own.
@Suite(.tags(.unit)) struct Int8RowDotTests {
    static let integerTypes = CodecRegistry.supportedTypes.filter { CodecRegistry.int8RowDot(for: $0) != nil }

    /// Native builds on AVX2 machines (Package.swift's rule) have the kernels; portable builds
    /// have none and use the f32 kernels.
    @Test func nativeBuildsHaveTheIntegerKernels() throws {
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
            .first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ").map(String.init)) } ?? []
        let native = ProcessInfo.processInfo.environment["QUANTKIT_PORTABLE"] == nil && ["avx2", "fma", "f16c"].allSatisfy(flags.contains)
        let expected: [GGMLType] = native ? [.Q4_0, .Q8_0, .Q4_1, .Q5_0, .Q5_1, .IQ4_NL, .IQ4_XS, .Q4_K, .Q5_K, .Q6_K] : []
        #expect(Set(Self.integerTypes) == Set(expected))
    }

    #if arch(x86_64) && AVX2
    @Test func blockStridesMatchTheTraitTable() {
        for type in Self.integerTypes {
            guard let codec = CodecRegistry.int8RowDot(for: type) as? any Int8BlockDot.Type else { continue }
            #expect(codec.blockStride == codec.blockBytes, "\(type)")
        }
    }
    #endif

    /// Rows interleaved in groups of eight: the same dots as the per-row kernel, up to the order
    /// of the f32 block additions (one accumulator instead of two).
    @Test(arguments: integerTypes.filter { InterleavedRows.kernel(for: $0, rows: 8) != nil })
    func interleavedRowsMatchThePerRowKernel(_ type: GGMLType) throws {
        let columns = 576
        // Two groups: the edge rows of the fast-path tests, then eight gaussian rows.
        let values = FastPathTests.testMatrix(rowLength: columns) + (0..<8).flatMap { gaussianVector(columns, seed: 300 + UInt64($0)) }
        let rows = values.count / columns
        let codec = try #require(CodecRegistry.int8RowDot(for: type))
        let kernel = try #require(InterleavedRows.kernel(for: type, rows: rows))
        let stored = try TensorCodec(type: type).quantize(values, rowLength: columns)
        let rowBytes = stored.count / rows
        let x = gaussianVector(columns, seed: 21).map { $0 * 2 }
        let activations = QuantizedActivations(count: columns)
        defer { activations.deallocate() }
        x.withUnsafeBufferPointer { activations.quantize($0.baseAddress!) }
        var interleaved = [UInt8](repeating: 0xAA, count: InterleavedRows.byteCount(rows: rows, rowBytes: rowBytes))
        var dots = [Float](repeating: .nan, count: rows)
        stored.withUnsafeBytes { data in
            interleaved.withUnsafeMutableBytes {
                kernel.repack(data.baseAddress!, rows: rows, rowBytes: rowBytes, into: $0.baseAddress!)
            }
            interleaved.withUnsafeBytes { packed in
                dots.withUnsafeMutableBufferPointer { out in
                    for group in 0..<rows / 8 {
                        kernel.dot8(packed.baseAddress!, group: group, rowBytes: rowBytes, activations, columns: columns,
                                    into: out.baseAddress! + 8 * group)
                    }
                }
            }
            for row in 0..<rows {
                let expected = codec.dot(data.baseAddress! + row * rowBytes, activations, count: columns)
                let magnitude = zip(values[row * columns..<(row + 1) * columns], x).reduce(Float(0)) { $0 + abs($1.0 * $1.1) }
                #expect(abs(dots[row] - expected) <= 1e-5 * max(magnitude, 1e-30), "\(type) row \(row): \(dots[row]) vs \(expected)")
            }
        }
    }

    @Test(arguments: integerTypes)
    func integerDotMatchesDecodedRows(_ type: GGMLType) throws {
        let codec = try #require(CodecRegistry.int8RowDot(for: type))
        for rowLength in Set([256, 1536, codec.blockSize * 3]) where rowLength % codec.blockSize == 0 {
            let rows = FastPathTests.testMatrix(rowLength: rowLength)
            let x = gaussianVector(rowLength, seed: 9).map { $0 * 3 }
            let activations = QuantizedActivations(count: rowLength)
            defer { activations.deallocate() }
            x.withUnsafeBufferPointer { activations.quantize($0.baseAddress!) }
            let seen = (0..<rowLength).map(activations.value)
            let rowBytes = rowLength / codec.blockSize * codec.blockBytes
            var blocks = [UInt8](repeating: 0, count: rows.count / rowLength * rowBytes)
            var decoded = [Float](repeating: 0, count: rowLength)
            for r in 0 ..< rows.count / rowLength {
                let (kernel, exact, magnitude) = blocks.withUnsafeMutableBytes { raw -> (Float, Double, Double) in
                    let row = raw.baseAddress! + r * rowBytes
                    rows.withUnsafeBufferPointer { codec.quantizeRow($0.baseAddress! + r * rowLength, count: rowLength, into: row) }
                    decoded.withUnsafeMutableBufferPointer { codec.dequantizeRow(row, count: rowLength, into: $0.baseAddress!) }
                    let products = zip(decoded, seen).map { Double($0) * Double($1) }
                    return (codec.dot(row, activations, count: rowLength), products.reduce(0, +), products.map(abs).reduce(0, +))
                }
                #expect(abs(Double(kernel) - exact) <= 1e-5 * magnitude + 1e-30,
                        "\(type) row \(r) of \(rowLength): kernel \(kernel), exact \(exact), Σ|wx| \(magnitude)")
            }
        }
    }

    @Test func zeroRowsAndZeroActivationsDotToZero() throws {
        let rowLength = 512
        let zeros = [Float](repeating: 0, count: rowLength)
        let quiet = QuantizedActivations(count: rowLength), loud = QuantizedActivations(count: rowLength)
        defer { quiet.deallocate(); loud.deallocate() }
        zeros.withUnsafeBufferPointer { quiet.quantize($0.baseAddress!) }
        gaussianVector(rowLength, seed: 4).withUnsafeBufferPointer { loud.quantize($0.baseAddress!) }
        for type in Self.integerTypes {
            let codec = try #require(CodecRegistry.int8RowDot(for: type))
            var zeroRow = [UInt8](repeating: 0, count: rowLength / codec.blockSize * codec.blockBytes)
            zeros.withUnsafeBufferPointer { z in zeroRow.withUnsafeMutableBytes { codec.quantizeRow(z.baseAddress!, count: rowLength, into: $0.baseAddress!) } }
            let weights = FastPathTests.testMatrix(rowLength: rowLength)
            var row = [UInt8](repeating: 0, count: zeroRow.count)
            weights.withUnsafeBufferPointer { w in row.withUnsafeMutableBytes { codec.quantizeRow(w.baseAddress!, count: rowLength, into: $0.baseAddress!) } }
            #expect(zeroRow.withUnsafeBytes { codec.dot($0.baseAddress!, loud, count: rowLength) } == 0, "\(type) zero row")
            #expect(row.withUnsafeBytes { codec.dot($0.baseAddress!, quiet, count: rowLength) } == 0, "\(type) zero activations")
        }
    }

    /// q = round(x/d) with d = max|x|/127 per block of 32, ties to even; d·Σq kept per block.
    @Test func activationsQuantizeAsQ8_0() {
        var x = gaussianVector(64, seed: 2)
        x[5] = -4          // the block's largest magnitude: exactly −127
        x[40] = 0
        let q = QuantizedActivations(count: 64)
        defer { q.deallocate() }
        x.withUnsafeBufferPointer { q.quantize($0.baseAddress!) }
        #expect(q.levels[5] == -127)
        #expect(q.scales[0] == 4 / Float(127))
        for i in 0..<64 {
            let d = q.scales[i / 32]
            #expect(abs(Float(q.levels[i]) - x[i] / d) <= 0.5 + 1e-4, "element \(i)")
        }
        let sum = (32..<64).reduce(Int32(0)) { $0 + Int32(q.levels[$1]) }
        #expect(q.scaledSums[1] == q.scales[1] * Float(sum))
    }
}
