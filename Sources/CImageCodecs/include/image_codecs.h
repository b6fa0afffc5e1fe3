#ifndef LATENTFLOW_IMAGE_CODECS_H
#define LATENTFLOW_IMAGE_CODECS_H

#include <stddef.h>
#include <stdint.h>

/* PNG and JPEG in memory, over libpng and libjpeg(-turbo).
 * Both libraries report errors with longjmp; every setjmp lives in codecs.c, so callers only
 * see a return code (0 = success) and a message in `error`. Buffers returned here are freed
 * with lf_free. */

typedef struct {
    char *key;
    char *text;
} lf_text_chunk;

typedef struct {
    int width;
    int height;
    int channels;   /* 3 (RGB) or 4 (RGBA) after decoding */
    int bit_depth;  /* 8 or 16; 16-bit samples are in host byte order */
    uint8_t *pixels;
    size_t pixels_size;
    lf_text_chunk *texts;
    int text_count;
    /* Warnings the decoder reported and went on past (libjpeg's JWRN_*: a truncated file is
     * decoded with its missing rows grey); the first one's text is in `warning`. */
    int warning_count;
    int truncated;  /* the data ended before the image did (JWRN_JPEG_EOF) */
    char warning[200];
} lf_decoded_image;

/* The decoders' return codes: 0 success, 1 failure (message in `error`), LF_DECODE_TOO_LARGE
 * when the header's width x height exceeds `max_pixels` (0: no limit but the built-in one); then
 * out->width, out->height and out->channels hold what the header claimed and nothing is allocated. */
#define LF_DECODE_TOO_LARGE 2

int lf_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels, lf_decoded_image *out,
                  char *error, size_t error_size);

/* channels 3 or 4, bit depth 8; texts are UTF-8 (written as tEXt when ASCII, else iTXt). */
int lf_png_encode(const uint8_t *pixels, int width, int height, int channels,
                  const char *const *keys, const char *const *texts, int text_count, int compression_level,
                  uint8_t **out, size_t *out_size, char *error, size_t error_size);

int lf_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, lf_decoded_image *out,
                   char *error, size_t error_size);

/* channels 3, quality 1..100. */
int lf_jpeg_encode(const uint8_t *pixels, int width, int height, int quality,
                   uint8_t **out, size_t *out_size, char *error, size_t error_size);

void lf_decoded_image_free(lf_decoded_image *image);
void lf_free(void *pointer);

#endif
