/**
 * The built-in pages' metadata, in one place: the server lists them from here (as it lists a page
 * package from its package.json, without running page code), each page module spreads its entry into
 * `definePage`, and the build makes one module per entry at `dist/pages/<id>/page.js`.
 */
export const BUILT_IN_PAGES = {
  viewer: {
    id: 'viewer',
    title: 'Tile viewer',
    description: 'Which octree tiles napari draws (red) and where its camera looks (yellow), live (napari 0.4 with octree).',
    topics: ['napari.layers', 'napari.info'],
  },
  loader: {
    id: 'loader',
    title: 'Loader',
    description: 'Frame times and chunk loads (time and size) over the last 10 seconds.',
    topics: ['napari.frame_time', 'napari.load_chunk'],
  },
  topics: {
    id: 'topics',
    title: 'Topics',
    description: 'Every topic every source publishes — any napari_data key, any message kind — with its latest values, as it arrives.',
    topics: ['*'],
  },
} as const;

/** A built-in page's module, relative to `dist/` (the tsup entry of the same name, plus `.js`). */
export const builtInModule = (id: string): string => `pages/${id}/page`;
