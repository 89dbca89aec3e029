/**
 * What kind of thing a listed file is, for its icon: guessed from the name's
 * extension alone (a listing reads no file), so only a hint to the eye.
 */
export type FileKind = 'file' | 'text' | 'image' | 'code' | 'archive' | 'media';

const KIND_BY_EXTENSION = new Map<string, FileKind>();
function add(kind: FileKind, extensions: string): void {
  for (const extension of extensions.split(' ')) KIND_BY_EXTENSION.set(extension, kind);
}
add('image', 'png jpg jpeg gif webp avif svg ico bmp tif tiff heic jxl');
add('media', 'mp3 wav ogg oga flac m4a aac opus mp4 m4v webm mkv mov avi m3u8');
add('archive', 'zip tar gz tgz bz2 xz zst 7z rar br jar war deb rpm dmg iso whl');
add(
  'code',
  'js mjs cjs ts mts cts tsx jsx json jsonc css scss less html htm xml vue svelte py rb go rs c h cc cpp hpp java kt swift php sh bash zsh ps1 sql wasm toml yaml yml lua pl r dart',
);
add('text', 'txt md markdown rst csv tsv log ini cfg conf pdf doc docx odt rtf tex');

/** `photo.JPG` → 'image'; a name without a known extension (or only a leading dot) → 'file'. */
export function fileKind(name: string): FileKind {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return 'file';
  return KIND_BY_EXTENSION.get(name.slice(dot + 1).toLowerCase()) ?? 'file';
}
