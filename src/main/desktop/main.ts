// placeholder, replaced by the desktop shell work
export {};
