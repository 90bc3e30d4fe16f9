import QuantConversion
import QuantCore
import QuantFormats

/// A conversion source with SmoothQuant folded in: the norms and weights a plan touches are
/// handed out as f32 (norm / s, W · diag(s)), built one tensor at a time when the converter asks;
/// everything else passes through untouched.
public struct SmoothedSource: ConversionSourceDecorator {
    public let base: any ConversionSource
    public let plan: SmoothQuantPlan
    public let tensors: [SourceTensor]
    private let transforms: [String: [SmoothQuantPlan.Transform]]

    public init(base: any ConversionSource, plan: SmoothQuantPlan) {
        self.base = base
        self.plan = plan
        let transforms = plan.transforms
        self.transforms = transforms
        tensors = base.tensors.map { transforms[$0.name] == nil ? $0 : SourceTensor(name: $0.name, shape: $0.shape, type: .F32) }
    }


    public func withData<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let original = base.tensors[index]
        guard let list = transforms[original.name] else { return try base.withData(index, body) }
        var values = try base.floats(index)
        for transform in list { transform.apply(to: &values, columns: Int(original.rowLength)) }
        return try values.withUnsafeBytes(body)
    }
}
