import LatentflowGraph

/// Typed composition helpers for the image nodes.
extension GraphBuilder {
    public func emptyImage(width: Int, height: Int, batchSize: Int = 1, color: Int = 0) -> OutputRef<ImageBatch> {
        add(EmptyImage.self, ["width": width, "height": height, "batch_size": batchSize, "color": color]).output(0)
    }

    public func loadImage(_ name: String) -> (image: OutputRef<ImageBatch>, mask: OutputRef<Mask>) {
        let node = add(LoadImage.self, ["image": name])
        return (node.output(0), node.output(1))
    }

    public func imageScale(
        _ image: OutputRef<ImageBatch>, width: Int, height: Int, method: String = "bilinear",
        crop: String = "disabled"
    ) -> OutputRef<ImageBatch> {
        add(
            ImageScale.self, ["image": image, "upscale_method": method, "width": width, "height": height, "crop": crop]
        ).output(0)
    }

    public func imageScaleBy(_ image: OutputRef<ImageBatch>, _ factor: Double, method: String = "bilinear")
        -> OutputRef<ImageBatch>
    {
        add(ImageScaleBy.self, ["image": image, "upscale_method": method, "scale_by": factor]).output(0)
    }

    public func imageInvert(_ image: OutputRef<ImageBatch>) -> OutputRef<ImageBatch> {
        add(ImageInvert.self, ["image": image]).output(0)
    }

    public func saveImage(_ images: OutputRef<ImageBatch>, prefix: String = "ComfyUI") {
        add(SaveImage.self, ["images": images, "filename_prefix": prefix])
    }

    public func previewImage(_ images: OutputRef<ImageBatch>) {
        add(PreviewImage.self, ["images": images])
    }
}
