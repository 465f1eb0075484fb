// People who share a computer each use a Chrome profile, and each profile runs its own copy of
// this extension (and its own hosts), but all their hosts share one store. This random id, made
// once and kept in this profile's storage, tells the host whose calibration and mood journal to
// use. Only the local host ever sees it. The worker and the journal page both tell it to their
// host right after its hello.

export async function loadProfileId() {
  const { profileId: kept } = await chrome.storage.local.get('profileId');
  if (kept) return kept;
  const made = crypto.randomUUID();
  await chrome.storage.local.set({ profileId: made });
  return made;
}
