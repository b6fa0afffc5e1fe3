#include "image_codecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

/* Pixel data above this many bytes is refused before allocation (a hostile header can claim
 * any size): 16384 x 16384 RGBA at 16 bits. */
#define LF_MAX_PIXEL_BYTES ((size_t)16384 * 16384 * 8)

void lf_free(void *pointer) { free(pointer); }

void lf_decoded_image_free(lf_decoded_image *image) {
    if (!image) return;
    free(image->pixels);
    for (int i = 0; i < image->text_count; i++) {
        free(image->texts[i].key);
        free(image->texts[i].text);
    }
    free(image->texts);
    memset(image, 0, sizeof(*image));
}

static void set_error(char *error, size_t error_size, const char *message) {
    if (error && error_size) snprintf(error, error_size, "%s", message);
}

/* ---------------------------------------------------------------- PNG */

typedef struct {
    jmp_buf jump;
    char *error;
    size_t error_size;
    int too_large;
} png_failure;

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
} png_reader;

typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
    int failed;
} png_writer;

static void png_on_error(png_structp png, png_const_charp message) {
    png_failure *failure = png_get_error_ptr(png);
    set_error(failure->error, failure->error_size, message);
    longjmp(failure->jump, 1);
}

static void png_on_warning(png_structp png, png_const_charp message) { (void)png; (void)message; }

static void png_read_memory(png_structp png, png_bytep out, png_size_t length) {
    png_reader *reader = png_get_io_ptr(png);
    if (length > reader->size - reader->offset) png_error(png, "unexpected end of PNG data (file truncated)");
    memcpy(out, reader->data + reader->offset, length);
    reader->offset += length;
}

static void png_write_memory(png_structp png, png_bytep data, png_size_t length) {
    png_writer *writer = png_get_io_ptr(png);
    if (writer->size + length > writer->capacity) {
        size_t capacity = writer->capacity ? writer->capacity * 2 : 65536;
        while (capacity < writer->size + length) capacity *= 2;
        uint8_t *grown = realloc(writer->data, capacity);
        if (!grown) png_error(png, "out of memory while encoding PNG");
        writer->data = grown;
        writer->capacity = capacity;
    }
    memcpy(writer->data + writer->size, data, length);
    writer->size += length;
}

static void png_flush_memory(png_structp png) { (void)png; }

static char *duplicate(const char *text) {
    size_t length = strlen(text);
    char *copy = malloc(length + 1);
    if (copy) memcpy(copy, text, length + 1);
    return copy;
}

static void collect_texts(png_structp png, png_infop info, lf_decoded_image *out) {
    png_textp texts = NULL;
    int count = png_get_text(png, info, &texts, NULL);
    if (count <= 0) return;
    lf_text_chunk *grown = realloc(out->texts, sizeof(lf_text_chunk) * (size_t)(out->text_count + count));
    if (!grown) return;
    out->texts = grown;
    for (int i = 0; i < count; i++) {
        out->texts[out->text_count].key = duplicate(texts[i].key);
        out->texts[out->text_count].text = duplicate(texts[i].text ? texts[i].text : "");
        out->text_count++;
    }
}

int lf_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels, lf_decoded_image *out,
                  char *error, size_t error_size) {
    memset(out, 0, sizeof(*out));
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        set_error(error, error_size, "not a PNG file (bad signature)");
        return 1;
    }
    // libpng allocates a text or unknown chunk's declared length (up to 2^31) before reading it,
    // so a few hostile bytes cost ~2 GB (found by fuzz-image). The whole file is in memory: a
    // chunk that claims more bytes than are left is truncated, whatever libpng would do with it.
    for (size_t at = 8; at + 8 <= size;) {
        size_t length = ((size_t)data[at] << 24) | ((size_t)data[at + 1] << 16) | ((size_t)data[at + 2] << 8) |
                        (size_t)data[at + 3];
        if (length > size - at - 8) {
            set_error(error, error_size, "truncated PNG (a chunk runs past the end of the file)");
            return 1;
        }
        if (memcmp(data + at + 4, "IEND", 4) == 0) break;
        at += 12 + length;
    }
    png_failure failure = {.error = error, .error_size = error_size};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_infop end_info = png ? png_create_info_struct(png) : NULL;
    png_bytep *volatile rows = NULL;
    png_reader reader = {data, size, 0};
    if (!png || !info || !end_info) {
        set_error(error, error_size, "out of memory");
        png_destroy_read_struct(&png, &info, &end_info);
        return 1;
    }
    if (setjmp(failure.jump)) {
        free(rows);
        png_destroy_read_struct(&png, &info, &end_info);
        if (failure.too_large) {
            free(out->pixels);
            out->pixels = NULL;
            out->pixels_size = 0;
            return LF_DECODE_TOO_LARGE;
        }
        lf_decoded_image_free(out);
        return 1;
    }
    png_set_read_fn(png, &reader, png_read_memory);
    png_set_user_limits(png, 16384, 16384);
    png_read_info(png, info);
    if (max_pixels && (uint64_t)png_get_image_width(png, info) * png_get_image_height(png, info) > max_pixels) {
        /* Refused from the header, before any pixel memory is asked for. */
        out->width = (int)png_get_image_width(png, info);
        out->height = (int)png_get_image_height(png, info);
        int color_type = png_get_color_type(png, info);
        out->channels = (color_type & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS) ? 4 : 3;
        out->bit_depth = png_get_bit_depth(png, info) == 16 ? 16 : 8;
        failure.too_large = 1;
        png_error(png, "image too large for the pixel budget");
    }
    collect_texts(png, info, out);

    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (depth == 16) png_set_swap(png);
#endif
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    out->width = (int)png_get_image_width(png, info);
    out->height = (int)png_get_image_height(png, info);
    out->channels = png_get_channels(png, info);
    out->bit_depth = png_get_bit_depth(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    if (row_bytes == 0 || (size_t)out->height > LF_MAX_PIXEL_BYTES / row_bytes) png_error(png, "image too large");
    out->pixels_size = row_bytes * (size_t)out->height;
    out->pixels = malloc(out->pixels_size);
    rows = malloc(sizeof(png_bytep) * (size_t)out->height);
    if (!out->pixels || !rows) png_error(png, "out of memory");
    for (int y = 0; y < out->height; y++) rows[y] = out->pixels + row_bytes * (size_t)y;
    png_read_image(png, rows);
    png_read_end(png, end_info);
    collect_texts(png, end_info, out);
    free(rows);
    png_destroy_read_struct(&png, &info, &end_info);
    return 0;
}

static int is_ascii(const char *text) {
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p >= 0x80) return 0;
    return 1;
}

int lf_png_encode(const uint8_t *pixels, int width, int height, int channels,
                  const char *const *keys, const char *const *texts, int text_count, int compression_level,
                  uint8_t **out, size_t *out_size, char *error, size_t error_size) {
    *out = NULL;
    *out_size = 0;
    if ((channels != 3 && channels != 4) || width <= 0 || height <= 0) {
        set_error(error, error_size, "PNG encode needs a non-empty RGB or RGBA image");
        return 1;
    }
    png_failure failure = {.error = error, .error_size = error_size};
    png_writer writer = {0};
    png_textp volatile chunks = NULL;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &failure, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        set_error(error, error_size, "out of memory");
        png_destroy_write_struct(&png, &info);
        return 1;
    }
    if (setjmp(failure.jump)) {
        free(chunks);
        free(writer.data);
        png_destroy_write_struct(&png, &info);
        return 1;
    }
    png_set_write_fn(png, &writer, png_write_memory, png_flush_memory);
    png_set_compression_level(png, compression_level);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 4 ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (text_count > 0) {
        chunks = calloc((size_t)text_count, sizeof(png_text));
        if (!chunks) png_error(png, "out of memory");
        for (int i = 0; i < text_count; i++) {
            chunks[i].key = (png_charp)keys[i];
            chunks[i].text = (png_charp)texts[i];
            chunks[i].text_length = strlen(texts[i]);
            /* tEXt is Latin-1 by the PNG spec; UTF-8 text goes in an uncompressed iTXt chunk. */
            chunks[i].compression = is_ascii(texts[i]) ? PNG_TEXT_COMPRESSION_NONE : PNG_ITXT_COMPRESSION_NONE;
        }
        png_set_text(png, info, chunks, text_count);
    }
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels;
    for (int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + stride * (size_t)y));
    png_write_end(png, info);
    free(chunks);
    png_destroy_write_struct(&png, &info);
    *out = writer.data;
    *out_size = writer.size;
    return 0;
}

/* ---------------------------------------------------------------- JPEG */

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char *error;
    size_t error_size;
    lf_decoded_image *image;
} jpeg_failure;

static void jpeg_on_error(j_common_ptr info) {
    jpeg_failure *failure = (jpeg_failure *)info->err;
    char message[JMSG_LENGTH_MAX];
    info->err->format_message(info, message);
    set_error(failure->error, failure->error_size, message);
    longjmp(failure->jump, 1);
}

// A JPEG that ends early is an error, as in Pillow (libjpeg would fill the missing rows with grey:
// 174 bytes claiming 18798 x 29712 pixels made it write 1.6 GB; found by fuzz-image).
static void jpeg_on_message(j_common_ptr info, int level) {
    if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF) jpeg_on_error(info);
}

/* Warnings (level -1) are counted and the first kept: libjpeg decodes past a truncated or
 * corrupt stream (filling what is missing), which callers should hear about. Trace messages
 * (level >= 0) are dropped. */
static void jpeg_on_decode_message(j_common_ptr info, int level) {
    if (level >= 0) return;
    jpeg_failure *failure = (jpeg_failure *)info->err;
    lf_decoded_image *image = failure->image;
    info->err->num_warnings++;
    image->warning_count++;
    if (info->err->msg_code == JWRN_JPEG_EOF) image->truncated = 1;
    if (image->warning_count == 1) {
        char message[JMSG_LENGTH_MAX];
        info->err->format_message(info, message);
        snprintf(image->warning, sizeof(image->warning), "%s", message);
    }
}

int lf_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, lf_decoded_image *out,
                   char *error, size_t error_size) {
    memset(out, 0, sizeof(*out));
    struct jpeg_decompress_struct info;
    jpeg_failure failure = {.error = error, .error_size = error_size, .image = out};
    info.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = jpeg_on_error;
    failure.manager.emit_message = jpeg_on_decode_message;
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&info);
        lf_decoded_image_free(out);
        return 1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    info.out_color_space = JCS_RGB;
    jpeg_calc_output_dimensions(&info);
    if (max_pixels && (uint64_t)info.output_width * info.output_height > max_pixels) {
        /* Refused from the header, before any pixel memory is asked for. */
        out->width = (int)info.output_width;
        out->height = (int)info.output_height;
        out->channels = 3;
        out->bit_depth = 8;
        jpeg_destroy_decompress(&info);
        return LF_DECODE_TOO_LARGE;
    }
    jpeg_start_decompress(&info);
    out->width = (int)info.output_width;
    out->height = (int)info.output_height;
    out->channels = 3;
    out->bit_depth = 8;
    size_t stride = (size_t)info.output_width * 3;
    if (stride == 0 || (size_t)info.output_height > LF_MAX_PIXEL_BYTES / stride) {
        set_error(error, error_size, "image too large");
        longjmp(failure.jump, 1);
    }
    out->pixels_size = stride * info.output_height;
    out->pixels = malloc(out->pixels_size);
    if (!out->pixels) {
        set_error(error, error_size, "out of memory");
        longjmp(failure.jump, 1);
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = out->pixels + stride * info.output_scanline;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    return 0;
}

int lf_jpeg_encode(const uint8_t *pixels, int width, int height, int quality,
                   uint8_t **out, size_t *out_size, char *error, size_t error_size) {
    *out = NULL;
    *out_size = 0;
    if (width <= 0 || height <= 0) {
        set_error(error, error_size, "JPEG encode needs a non-empty image");
        return 1;
    }
    struct jpeg_compress_struct info;
    jpeg_failure failure = {.error = error, .error_size = error_size};
    unsigned char *buffer = NULL;
    unsigned long buffer_size = 0;
    info.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = jpeg_on_error;
    failure.manager.emit_message = jpeg_on_message;
    if (setjmp(failure.jump)) {
        jpeg_destroy_compress(&info);
        free(buffer);
        return 1;
    }
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, &buffer, &buffer_size);
    info.image_width = (JDIMENSION)width;
    info.image_height = (JDIMENSION)height;
    info.input_components = 3;
    info.in_color_space = JCS_RGB;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    size_t stride = (size_t)width * 3;
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + stride * info.next_scanline);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    *out = buffer;
    *out_size = buffer_size;
    return 0;
}
