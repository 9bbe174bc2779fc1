/* libyaml.h: the system's <yaml.h> (libyaml), which kx's own lib/yaml.h
 * shadows on the include path (-Ilib): include this one to reach libyaml. */
#ifndef KX_LIBYAML_H
#define KX_LIBYAML_H
#include_next <yaml.h>
#endif
